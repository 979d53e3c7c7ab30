"""Flask blueprints of the inbound endpoints: install, events, robots, pages, health. Each runs
the one fixed chain: parse -> verify -> dedupe -> persist the job -> answer at once."""
