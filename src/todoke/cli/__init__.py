"""The `todoke` command line: thin commands over the services."""
