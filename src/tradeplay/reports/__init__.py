"""What a trader sees after a run: metrics, CSV files, the HTML report."""
