"""What a judged run leaves behind: `summary.json`, `report.html` and its figures."""
