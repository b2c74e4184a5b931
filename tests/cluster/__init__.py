"""Several server processes behind a real HAProxy, and `servicepoint run --workers`."""
