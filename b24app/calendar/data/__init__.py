"""Production calendars shipped with b24app as plain Python data (no files to locate at run time)."""
