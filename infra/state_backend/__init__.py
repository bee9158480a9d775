"""The state backend's bootstrap: a small Pulumi program of its own (`state-backend/`), validated offline.

`config` reads and checks `state-backend/Pulumi.<stack>.yaml`; `program` declares the
backend (storage for checkpoints, a key vault and the key Pulumi encrypts
secrets with); `plan` runs it under the offline engine for `amlplatform bootstrap plan`.
"""
