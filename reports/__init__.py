"""Reports for a period (Hải Phòng Điều 22): figures, tables (CSV, XLSX), charts and the PDF."""
