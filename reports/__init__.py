"""Reports: ledger queries turned into tables, files and documents."""
