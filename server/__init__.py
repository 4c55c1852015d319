"""The web server: aiohttp application, Socket.IO namespaces, pages, API and the `doithoai` command."""
