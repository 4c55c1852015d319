// The officer intake page (server/officer_intake_pages.py): the slip's print button. The page works
// without this script; it only adds the button (the browser's own Print does the same).
const print = document.getElementById("oi-print");
if (print) {
  print.hidden = false;
  print.addEventListener("click", () => window.print());
}
// After a question is entered, the receipt is what the officer needs next: read it out or write it down.
const slip = document.getElementById("oi-slip");
if (slip) {
  slip.setAttribute("tabindex", "-1");
  slip.focus();
}
