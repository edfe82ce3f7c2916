"""File builders for exports: XLSX (openpyxl) and printable PDF (fpdf2 with the shipped CJK
font). Pure functions from plain data to bytes: no database, no telegram, safe in a thread."""
