"""What Azure offers and requires, as dated tables.

Regions, VM sizes, AKS versions, time zones, role definitions,
diagnostic categories per resource type, private DNS zones."""
