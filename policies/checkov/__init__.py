"""amlplatform's own checkov checks for the ARM template the offline renderer writes.

checkov has no ARM checks for Azure ML workspaces' identity and network
settings, App Insights, Log Analytics or role assignments; these mirror PSRule
for Azure (Azure.ML.*) and the Azure Policy "Machine Learning" category.
IDs are CKV_AMLP_<n>; never reuse a retired number.
"""
