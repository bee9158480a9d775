"""Plan the bootstrap offline, say where it deliberately relaxes a check, and print the commands it enables."""

from __future__ import annotations

from typing import Any, Callable

from infra.config.stack import GEO_REPLICATION
from infra.offline import engine
from infra.state_backend import config as config_mod

PROJECT = "amlplatform-bootstrap"
STORAGE = "Microsoft.Storage/storageAccounts"
KEY_VAULT = "Microsoft.KeyVault/vaults"
KEY = "Microsoft.KeyVault/vaults/keys"

Skip = tuple[str, str]


def plan(cfg: config_mod.BootstrapConfig, raw: dict[str, Any]) -> engine.Plan:
    """The bootstrap's plan: the same program `pulumi up` runs in state-backend/, under the ARM emulator."""
    from infra.state_backend import program

    def declare() -> None:
        program.build(cfg)

    return engine.run(declare, cfg.stack, raw, subscription_id=cfg.azure.subscription_id, project=PROJECT)


def skips(cfg: config_mod.BootstrapConfig) -> Callable[[dict[str, Any]], list[Skip]]:
    """Inline skips for what the bootstrap file deliberately relaxes, each naming the key and the file."""
    src = cfg.source

    def no_endpoint(check: str, what: str) -> list[Skip]:
        if cfg.network.mode != "public":
            return []
        return [(check, f"{src} sets bootstrap:network.mode=public: the {what} has no private endpoint; it is "
                        f"reached over its public endpoint, denied except for {', '.join(cfg.network.allowed_ip_ranges)}")]

    def rule(res: dict[str, Any]) -> list[Skip]:
        kind = res["type"]
        out: list[Skip] = []
        if kind == STORAGE:
            out += no_endpoint("CKV2_AMLP_2", "state storage account")
            if cfg.network.mode == "public":
                out.append(("CKV_AZURE_59", f"{src} sets bootstrap:network.mode=public: the state account keeps a "
                            f"public endpoint with firewall default Deny, open only to "
                            f"{', '.join(cfg.network.allowed_ip_ranges)}, and accepts Entra ID only (no keys)"))
            if cfg.storage.replication not in GEO_REPLICATION:
                out.append(("CKV_AZURE_206", f"{src} sets bootstrap:storage.replication={cfg.storage.replication}: "
                            "state is kept in one region by choice"))
            out.append(("CKV_AMLP_34", f"{src}: the state account keeps Microsoft-managed keys: the secrets in "
                        "Pulumi state are encrypted with the bootstrap's own key already (its secrets provider), and "
                        "the platform's customer-managed keys live in each stack's vault "
                        "(amlplatform:encryption.customerManagedKey)"))
        elif kind == KEY_VAULT:
            out += no_endpoint("CKV2_AMLP_3", "state key vault")
        elif kind == KEY:
            if cfg.key_vault.key_type != "RSA-HSM":
                out.append(("CKV_AZURE_112", f"{src} sets bootstrap:keyVault.keyType={cfg.key_vault.key_type}: a "
                            "software-protected key by choice (RSA-HSM needs the premium SKU)"))
            out.append(("CKV_AMLP_38", f"{src}: the secrets key has no automatic rotation: each stack names a key "
                        "version, and a new version is adopted per stack with `pulumi stack change-secrets-provider` "
                        "(docs/state-backend.md); its rotation policy notifies before expiry"))
        return out

    return rule


def commands(cfg: config_mod.BootstrapConfig, stacks: list[str]) -> list[str]:
    """The exact commands that put each platform stack on this backend and key (run from the repo root)."""
    n = cfg.names
    return [
        "# 1. the state backend (every shell that runs pulumi; Entra ID via DefaultAzureCredential, e.g. az login)",
        f"pulumi login '{cfg.backend_url}'",
        "# 2. the key version the stacks encrypt with (needs Key Vault Crypto User on the key)",
        f"KEY_VERSION=$(az keyvault key show --vault-name {n.key_vault} --name {n.key} --query key.kid -o tsv "
        "| cut -d/ -f6)",
        "# 3. each platform stack, once (writes secretsprovider and encryptedkey into stacks/Pulumi.<stack>.yaml)",
        *[f'pulumi stack init {stack} --secrets-provider "{cfg.secrets_provider("${KEY_VERSION}")}"'
          for stack in stacks],
        "# 4. CI (.github/workflows/deploy.yml) repository variables",
        f"PULUMI_STATE_ACCOUNT={n.storage_account} PULUMI_STATE_CONTAINER={n.container}",
    ]
