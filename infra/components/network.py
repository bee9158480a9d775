"""The stack's own VNet: subnets with an NSG each, explicit egress, private DNS, optional hub peering.

Subnets are declared inline on the VNet (one resource owns them, so the VNet
and separate subnet resources never fight over the subnet list). Private
endpoints enforce their subnet's NSG (`privateEndpointNetworkPolicies`), and
no subnet gets Azure's implicit default outbound access: training and
scoring leave through a NAT gateway, a hub firewall, or the landing zone's
own route.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import network, privatedns

from infra.azure_facts.dns_zones import required_zones
from infra.azure_facts.regions import zone_redundant
from infra.components.common import Common, PropsError, add_diagnostics, resource_opts

SUBNET_NAMES = {"privateEndpoints": "snet-pe", "training": "snet-training", "scoring": "snet-scoring",
                "apiServer": "snet-apiserver"}
# API Server VNet Integration projects the AKS API server into a subnet delegated to AKS.
API_SERVER_DELEGATION = "Microsoft.ContainerService/managedClusters"


@dataclass(frozen=True)
class Rule:
    """One NSG rule with the reason it exists."""

    name: str
    priority: int
    direction: str
    access: str
    protocol: str
    source: str
    destination: str
    ports: tuple[str, ...]
    reason: str

    def args(self) -> network.SecurityRuleArgs:
        many = len(self.ports) > 1
        return network.SecurityRuleArgs(
            name=self.name,
            priority=self.priority,
            direction=self.direction,
            access=self.access,
            protocol=self.protocol,
            source_address_prefix=self.source,
            source_port_range="*",
            destination_address_prefix=self.destination,
            destination_port_range=None if many else self.ports[0],
            destination_port_ranges=list(self.ports) if many else None,
            description=self.reason,
        )


DENY_INTERNET_INBOUND = Rule(
    "deny-internet-inbound", 4096, "Inbound", "Deny", "*", "Internet", "*", ("*",),
    "Nothing on the internet reaches these subnets; Azure's defaults would only deny it at 65500.",
)


# Lateral movement: nothing in these subnets administers other hosts, so SSH and RDP to the VNet are denied
# outbound (PSRule Azure.NSG.LateralTraversal). Its evaluator matches the literal port strings "22" and "3389"
# and the VirtualNetwork tag, not ranges or CIDRs (PSRule.Rules.Azure NetworkSecurityGroupEvaluator.cs),
# so the ports are listed one by one. Priority 4000 sits below every allow here and above Azure's
# AllowVnetOutBound (65000).
LATERAL_PORTS = ("22", "3389")
DENY_LATERAL_OUTBOUND = Rule(
    "deny-ssh-rdp-vnet-outbound", 4000, "Outbound", "Deny", "Tcp", "VirtualNetwork", "VirtualNetwork", LATERAL_PORTS,
    "No SSH or RDP from this subnet to the rest of the network: nothing here administers other hosts.",
)


def intra_subnet_ssh(cidr: str) -> Rule:
    """Multi-node jobs on a compute cluster may start their ranks over SSH between the cluster's own nodes
    (Open MPI's default launcher); that stays possible inside the training subnet, and only there."""
    return Rule("allow-ssh-within-training-outbound", 3990, "Outbound", "Allow", "Tcp", cidr, cidr, ("22",),
                "SSH between the training subnet's own nodes (MPI launchers of multi-node jobs), nowhere else.")


def training_rules(region: str, deny_internet_outbound: bool, cidr: str) -> list[Rule]:
    """Outbound a no-public-IP AML compute needs (simplified node communication), and nothing more.

    With `deny_internet_outbound` these are the only ways out (package installs need a mirror or
    the registry); otherwise they document the dependency and the egress path decides the rest.
    SSH stays open between the subnet's own nodes (`cidr`), and is denied towards the rest of the VNet."""
    out = [
        ("aad", "AzureActiveDirectory", ("443",), "Entra ID tokens for the compute identity."),
        ("aml", "AzureMachineLearning", ("443", "8787", "18881"),
         "The AML service; 8787 and 18881 serve compute-instance apps and the language server."),
        ("batch", f"BatchNodeManagement.{region}", ("443",), "Node management of compute clusters."),
        ("arm", "AzureResourceManager", ("443",), "Control-plane calls made by jobs and the AML agent."),
        ("storage", f"Storage.{region}", ("443",), "Regional storage used by AML's own agents and logs."),
        ("keyvault", f"AzureKeyVault.{region}", ("443",), "Regional key vaults behind AML."),
        ("acr", f"AzureContainerRegistry.{region}", ("443",), "Regional registries the job images come from."),
        ("mcr", "MicrosoftContainerRegistry", ("443",), "Microsoft's base images (curated environments)."),
        ("frontdoor", "AzureFrontDoor.FirstParty", ("443",), "Microsoft first-party content MCR serves through."),
        ("monitor", "AzureMonitor", ("443",), "Metrics and logs from the compute."),
    ]
    rules = [
        Rule(f"allow-{key}-outbound", 100 + 10 * i, "Outbound", "Allow", "Tcp", "VirtualNetwork", tag, ports, why)
        for i, (key, tag, ports, why) in enumerate(out)
    ]
    rules.append(Rule("allow-aml-udp-outbound", 210, "Outbound", "Allow", "Udp", "VirtualNetwork",
                      "AzureMachineLearning", ("5831",), "Compute-instance control channel."))
    rules += [intra_subnet_ssh(cidr), DENY_LATERAL_OUTBOUND]
    if deny_internet_outbound:
        rules.append(Rule("deny-internet-outbound", 4096, "Outbound", "Deny", "*", "*", "Internet", ("*",),
                          "Only the service tags above leave the subnet (amlplatform:network.internetOutbound)."))
    return [DENY_INTERNET_INBOUND, *rules]


def api_server_rules(scoring_cidr: str) -> list[Rule]:
    """What the API server subnet must let in ("Network security group (NSG) security rules",
    learn.microsoft.com/azure/aks/api-server-vnet-integration); Azure's defaults allow both already,
    stated here so a later deny cannot cut them silently."""
    return [
        Rule("allow-nodes-apiserver-inbound", 100, "Inbound", "Allow", "Tcp", scoring_cidr, "*", ("443", "4443"),
             "Cluster nodes reach the API server."),
        Rule("allow-lb-apiserver-inbound", 110, "Inbound", "Allow", "Tcp", "AzureLoadBalancer", "*", ("9988",),
             "Azure Load Balancer probes the API server."),
        DENY_INTERNET_INBOUND,
        # The API server reaches the nodes over the ports AKS opens itself (konnectivity, kubelet), never SSH/RDP.
        DENY_LATERAL_OUTBOUND,
    ]


@dataclass
class NetworkProps:
    common: Common
    vnet_name: str
    address_space: list[str]
    subnets: dict[str, str]  # use -> CIDR
    egress: str = "natGateway"
    firewall_ip: str | None = None
    dns: str = "create"
    dns_zone_ids: dict[str, str] = field(default_factory=dict)
    hub_vnet_id: str | None = None
    monitor_private_link: bool = False
    deny_internet_outbound: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.subnets) - set(SUBNET_NAMES)
        if unknown:
            raise PropsError(f"unknown subnet use(s) {sorted(unknown)}; known: {sorted(SUBNET_NAMES)}")
        if "privateEndpoints" not in self.subnets:
            raise PropsError("the VNet needs a privateEndpoints subnet")
        if self.egress == "firewall" and not self.firewall_ip:
            raise PropsError("egress firewall needs firewall_ip")
        if "apiServer" in self.subnets and "scoring" not in self.subnets:
            raise PropsError("the API server subnet serves the AKS cluster in the scoring subnet, which is missing")
        if self.deny_internet_outbound and self.egress == "firewall":
            raise PropsError("denying internet outbound in the NSG would also block the route to the firewall")


class NetworkComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: NetworkProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Network", name, None, opts)
        c = props.common
        base = props.vnet_name.removeprefix("vnet-")
        region = c.location

        # NSGs: one per subnet. Compute subnets get the AML outbound set; all deny internet inbound.
        rules = {"privateEndpoints": [DENY_INTERNET_INBOUND, DENY_LATERAL_OUTBOUND],
                 "scoring": [DENY_INTERNET_INBOUND, DENY_LATERAL_OUTBOUND]}
        if "training" in props.subnets:
            rules["training"] = training_rules(region, props.deny_internet_outbound, props.subnets["training"])
        if "apiServer" in props.subnets:
            rules["apiServer"] = api_server_rules(props.subnets["scoring"])
        self.nsgs: dict[str, network.NetworkSecurityGroup] = {}
        for use in props.subnets:
            nsg = network.NetworkSecurityGroup(
                f"{name}-nsg-{use}",
                network_security_group_name=f"nsg-{base}-{SUBNET_NAMES[use].removeprefix('snet-')}",
                resource_group_name=c.resource_group_name,
                location=c.location,
                security_rules=[r.args() for r in rules[use]],
                tags=c.tags,
                opts=resource_opts(self, c),
            )
            add_diagnostics(self, f"{name}-nsg-{use}", nsg.id, c.diagnostic_settings,
                            "Microsoft.Network/networkSecurityGroups")
            self.nsgs[use] = nsg

        # Explicit egress for the compute subnets.
        compute = [u for u in ("training", "scoring") if u in props.subnets]
        nat_id: pulumi.Output[str] | None = None
        route_id: pulumi.Output[str] | None = None
        if compute and props.egress == "natGateway":
            pip = network.PublicIPAddress(
                f"{name}-nat-pip",
                public_ip_address_name=f"pip-{base}-nat",
                resource_group_name=c.resource_group_name,
                location=c.location,
                sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
                public_ip_allocation_method="Static",
                public_ip_address_version="IPv4",
                # Zone-redundant where the region has zones: a NAT gateway placed in no zone takes such an
                # address (nat-availability-zones), and the egress address survives a zone's loss.
                zones=zone_redundant(region),
                tags=c.tags,
                opts=resource_opts(self, c),
            )
            # DDoS notifications, mitigation reports and flow logs of the only public address (Azure Policy
            # 752154a7); metrics show SNAT use.
            add_diagnostics(self, f"{name}-nat-pip", pip.id, c.diagnostic_settings,
                            "Microsoft.Network/publicIPAddresses")
            nat = network.NatGateway(
                f"{name}-nat",
                nat_gateway_name=f"ng-{base}",
                resource_group_name=c.resource_group_name,
                location=c.location,
                sku=network.NatGatewaySkuArgs(name="Standard"),
                public_ip_addresses=[network.SubResourceArgs(id=pip.id)],
                idle_timeout_in_minutes=10,
                tags=c.tags,
                opts=resource_opts(self, c),
            )
            nat_id = nat.id
        elif compute and props.egress == "firewall":
            table = network.RouteTable(
                f"{name}-egress",
                route_table_name=f"rt-{base}-egress",
                resource_group_name=c.resource_group_name,
                location=c.location,
                disable_bgp_route_propagation=True,
                routes=[network.RouteArgs(name="default-via-firewall", address_prefix="0.0.0.0/0",
                                          next_hop_type="VirtualAppliance", next_hop_ip_address=props.firewall_ip)],
                tags=c.tags,
                opts=resource_opts(self, c),
            )
            route_id = table.id

        subnet_args = []
        for use, cidr in props.subnets.items():
            egress = use in compute
            subnet_args.append(network.SubnetArgs(
                name=SUBNET_NAMES[use],
                address_prefix=cidr,
                # References by ID: the SDK types these as the full resource args; only `id` is set.
                network_security_group=network.NetworkSecurityGroupArgs(id=self.nsgs[use].id),
                nat_gateway=network.SubResourceArgs(id=nat_id) if egress and nat_id is not None else None,
                route_table=network.RouteTableArgs(id=route_id) if egress and route_id is not None else None,
                private_endpoint_network_policies="Enabled",
                default_outbound_access=False,
                delegations=[network.DelegationArgs(name="aks-apiserver", service_name=API_SERVER_DELEGATION)]
                if use == "apiServer" else None,
            ))
        self.vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=props.vnet_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            address_space=network.AddressSpaceArgs(address_prefixes=props.address_space),
            subnets=subnet_args,
            tags=c.tags,
            opts=resource_opts(self, c),
        )
        add_diagnostics(self, f"{name}-vnet", self.vnet.id, c.diagnostic_settings, "Microsoft.Network/virtualNetworks")

        def subnet_id(subnet_name: str) -> pulumi.Output[str]:
            return self.vnet.id.apply(lambda vnet_id: f"{vnet_id}/subnets/{subnet_name}")

        self.subnet_ids: dict[str, pulumi.Output[str]] = {use: subnet_id(SUBNET_NAMES[use]) for use in props.subnets}

        if props.hub_vnet_id:
            # The hub's side of the peering belongs to the hub's owners.
            network.VirtualNetworkPeering(
                f"{name}-peer-hub",
                virtual_network_peering_name="peer-to-hub",
                virtual_network_name=self.vnet.name,
                resource_group_name=c.resource_group_name,
                remote_virtual_network=network.SubResourceArgs(id=props.hub_vnet_id),
                allow_virtual_network_access=True,
                allow_forwarded_traffic=True,
                allow_gateway_transit=False,
                use_remote_gateways=False,
                opts=resource_opts(self, c),
            )

        # Private DNS: zones here linked to this VNet, central zones by ID, or none at all.
        self.zone_ids: dict[str, pulumi.Input[str]] | None
        if props.dns == "create":
            self.zone_ids = {}
            for zone in required_zones(props.monitor_private_link):
                key = zone.removeprefix("privatelink.").replace(".", "-")
                pz = privatedns.PrivateZone(
                    f"{name}-zone-{key}",
                    private_zone_name=zone,
                    resource_group_name=c.resource_group_name,
                    location="global",
                    tags=c.tags,
                    opts=resource_opts(self, c),
                )
                privatedns.VirtualNetworkLink(
                    f"{name}-zone-{key}-link",
                    virtual_network_link_name=f"link-{props.vnet_name}",
                    private_zone_name=pz.name,
                    resource_group_name=c.resource_group_name,
                    location="global",
                    virtual_network=privatedns.SubResourceArgs(id=self.vnet.id),
                    registration_enabled=False,
                    tags=c.tags,
                    opts=resource_opts(self, c),
                )
                self.zone_ids[zone] = pz.id
        elif props.dns == "existing":
            self.zone_ids = dict(props.dns_zone_ids)
        else:
            self.zone_ids = None

        self.id = self.vnet.id
        self.register_outputs({"vnet_id": self.vnet.id, **{f"subnet_{k}": v for k, v in self.subnet_ids.items()}})
