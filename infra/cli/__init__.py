"""The `amlplatform` command line: plan, check, scan, onboard, seeding, promotion, the state backend."""
