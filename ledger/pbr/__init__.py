"""Payment by results: contracts, eligibility, claim runs, comparison mechanisms, sampling, plans."""
