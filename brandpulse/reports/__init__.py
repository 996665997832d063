"""Reports people send: the influencer report and the scheduled brand report, as CSV, XLSX or PDF."""
