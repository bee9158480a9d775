"""The AzureML extension's configuration, as `az k8s-extension create` sends it.

The extension reads the keys the CLI's partner-extension code writes
(Azure/azure-cli-extensions, src/k8s-extension/azext_k8s_extension/partner_extensions/
AzureMLKubernetes.py), not the CLI's own parameter names: it turns the PEM file
paths into base64 `scoringFe.sslCert` / `scoringFe.sslKey`, `internalLoadBalancerProvider=azure`
into `scoringFe.serviceType.internalLoadBalancer`, and adds the cluster's identity and
location, relay and service bus off for AKS. These are plain functions so the exact maps
can be tested without an engine.
"""

from __future__ import annotations

import base64

# The extension's release namespace: the CLI always installs it there.
RELEASE_NAMESPACE = "azureml"
# The only namespace every cluster has that workloads may use.
ALWAYS_THERE = "default"


def cluster_resource_id(subscription_id: str, resource_group: str, cluster_name: str) -> str:
    """The cluster ID exactly as the CLI spells it in `clusterId` and `cluster_name`."""
    return (f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/"
            f"Microsoft.ContainerService/managedClusters/{cluster_name}")


def extension_settings(*, cluster_id: str, cluster_name: str, location: str, cluster_purpose: str,
                       tls_cname: str | None) -> dict[str, str]:
    """Inference only, behind an internal Azure load balancer; HTTPS when `tls_cname` is given.

    The CLI's boolean values reach ARM as Python's str(True), "True"; the values the user
    passes on the command line stay as typed."""
    https = tls_cname is not None
    settings = {
        # What the user passes (`--config`), as the Azure ML docs write them.
        "enableTraining": "False",
        "enableInference": "True",
        "inferenceRouterServiceType": "LoadBalancer",
        "internalLoadBalancerProvider": "azure",
        "inferenceRouterHA": "True",
        "clusterPurpose": cluster_purpose,
        "allowInsecureConnections": "False" if https else "True",
        # What the CLI derives: internalLoadBalancerProvider=azure with a LoadBalancer router.
        "scoringFe.serviceType.internalLoadBalancer": "True",
        # What the CLI adds for every install on AKS (managedClusters).
        "cluster_name": cluster_id,
        "clusterId": cluster_id,
        "prometheus.prometheusSpec.externalLabels.cluster_name": cluster_id,
        "domain": f"{location}.cloudapp.azure.com",
        "location": location,
        "jobSchedulerLocation": location,
        "cluster_name_friendly": cluster_name,
        "servicebus.enabled": "false",
        "relayserver.enabled": "false",
        "nginxIngress.enabled": "true",
    }
    if https:
        settings["sslCname"] = tls_cname or ""
    return settings


def pem_b64(pem: str) -> str:
    """A PEM as the CLI sends it: its ASCII text, base64-encoded."""
    return base64.b64encode(pem.encode("ascii")).decode("ascii")


def protected_settings(cert_pem: str, key_pem: str) -> dict[str, str]:
    """The scoring front end's certificate and key (the CLI reads them from sslCertPemFile/sslKeyPemFile;
    the file paths themselves mean nothing to the extension, so they are not sent)."""
    return {"scoringFe.sslCert": pem_b64(cert_pem), "scoringFe.sslKey": pem_b64(key_pem)}
