"""Built-in Azure role definition IDs the platform assigns (one table, pinned by a test)."""

from __future__ import annotations

BUILTIN_ROLES: dict[str, str] = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "AzureML Compute Operator": "e503ece1-11d0-4e8e-8e2c-7a6c3bf38815",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage File Data Privileged Contributor": "69566ab7-960f-475b-8e7c-b3118f30c6bd",
    "Storage File Data Privileged Reader": "b8eda974-7b85-4f76-af95-65846b26df6d",
    "Azure AI Enterprise Network Connection Approver": "b556d68e-0be0-4f35-a333-ad7ee1ce17ea",
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    # Customer-managed keys (learn.microsoft.com/azure/role-based-access-control/built-in-roles/security):
    # get, wrapKey and unwrapKey for storage, the registry, disk encryption sets and the workspace;
    # encrypt and decrypt for AKS KMS; and, with a private vault, Key Vault Contributor for the private
    # link AKS creates to it (use-kms-etcd-encryption).
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Contributor": "f25e0fa2-a7c8-4377-a976-54943a77a395",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    # Read and write of an AML registry's assets (built-in-roles/ai-machine-learning): the CI/CD principal only.
    "AzureML Registry User": "1823dd4f-9b8c-4ab6-ab4e-7397a3684615",
    # Attaching AKS to a workspace with a user-assigned identity (how-to-attach-kubernetes-to-workspace);
    # GUIDs from learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers.
    "Kubernetes Extension Contributor": "85cb6faf-e071-4c9b-8136-154b5a04f717",
    "Azure Kubernetes Service Cluster Admin Role": "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",
}

# What a user-assigned workspace identity needs on an AKS cluster before attaching it
# (learn.microsoft.com/azure/machine-learning/how-to-attach-kubernetes-to-workspace).
AKS_ATTACH_ROLES = ("Reader", "Kubernetes Extension Contributor", "Azure Kubernetes Service Cluster Admin Role")


# The roles whose data actions include a key operation a customer-managed key consumer calls: a
# grant of any of them on the key, its vault or above lets the consumer use the key.
KEY_WRAP_ROLES = ("Key Vault Crypto Service Encryption User", "Key Vault Crypto User", "Key Vault Crypto Officer",
                  "Key Vault Administrator")
KEY_ENCRYPT_ROLES = ("Key Vault Crypto User", "Key Vault Crypto Officer", "Key Vault Administrator")


def role_definition_id(subscription_id: str, role: str) -> str:
    """The subscription-scoped ID ARM reports back for a built-in role (so the diff stays clean)."""
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{BUILTIN_ROLES[role]}"

