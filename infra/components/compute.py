"""AML compute: training clusters, personal compute instances, and attached Spark.

Everything runs as the compute identity with local (key) auth off, no node
public IPs and no SSH; in private mode it sits in the training subnet.
Clusters scale to zero; instances shut down when idle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence, TypeAlias

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from infra.components.common import Common, PropsError, check_name, resource_opts

# The compute kinds this component declares (ml.Compute's `properties` takes one of them).
ComputeProperties: TypeAlias = ml.AmlComputeArgs | ml.ComputeInstanceArgs | ml.SynapseSparkArgs | ml.DatabricksArgs


@dataclass(frozen=True)
class Cluster:
    name: str
    vm_size: str
    priority: str
    min_nodes: int
    max_nodes: int
    idle_minutes: int


@dataclass(frozen=True)
class Instance:
    name: str
    user_object_id: str
    vm_size: str
    idle_minutes: int
    start_cron: str | None = None
    stop_cron: str | None = None
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Attach:
    name: str
    kind: str  # SynapseSpark | Databricks
    resource_id: str
    workspace_url: str | None = None
    access_token: pulumi.Input[str] | None = None


@dataclass
class ComputeProps:
    common: Common
    workspace_name: pulumi.Input[str]
    identity_id: pulumi.Input[str]
    tenant_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str] | None  # training subnet in private mode
    clusters: Sequence[Cluster] = ()
    instances: Sequence[Instance] = ()
    attach: Sequence[Attach] = field(default_factory=list)
    # The identity compute instances run as (default: identity_id). Idle shutdown needs it to hold
    # Contributor on the workspace, a role the clusters' identity must not get (how-to-create-compute-instance).
    instance_identity_id: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        for c in self.clusters:
            check_name("compute", c.name)
            if not 0 <= c.min_nodes <= c.max_nodes:
                raise PropsError(f"cluster {c.name}: need 0 <= min_nodes <= max_nodes")
        for i in self.instances:
            check_name("compute_instance", i.name)
        for a in self.attach:
            check_name("compute", a.name)
            if a.kind == "Databricks" and a.access_token is None:
                raise PropsError(f"attach {a.name}: Databricks needs its access token")


class ComputeComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: ComputeProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Compute", name, None, opts)
        c = props.common
        identity = ml.ManagedServiceIdentityArgs(type="UserAssigned", user_assigned_identities=[props.identity_id])
        instance_identity = identity if props.instance_identity_id is None else ml.ManagedServiceIdentityArgs(
            type="UserAssigned", user_assigned_identities=[props.instance_identity_id])
        subnet = ml.ResourceIdArgs(id=props.subnet_id) if props.subnet_id is not None else None

        def compute(
            key: str, compute_name: str, properties: ComputeProperties,
            runs_as: ml.ManagedServiceIdentityArgs | None = identity,
        ) -> ml.Compute:
            return ml.Compute(
                f"{name}-{key}",
                compute_name=compute_name,
                workspace_name=props.workspace_name,
                resource_group_name=c.resource_group_name,
                location=c.location,
                identity=runs_as,
                properties=properties,
                tags=c.tags,
                opts=resource_opts(self, c),
            )

        self.clusters = [
            compute(
                f"cluster-{cl.name}",
                cl.name,
                ml.AmlComputeArgs(
                    compute_type="AmlCompute",
                    disable_local_auth=True,
                    description=f"{cl.priority} {cl.vm_size}, {cl.min_nodes}-{cl.max_nodes} nodes",
                    properties=ml.AmlComputePropertiesArgs(
                        vm_size=cl.vm_size,
                        vm_priority=cl.priority,
                        os_type="Linux",
                        scale_settings=ml.ScaleSettingsArgs(
                            min_node_count=cl.min_nodes,
                            max_node_count=cl.max_nodes,
                            node_idle_time_before_scale_down=f"PT{cl.idle_minutes}M",
                        ),
                        subnet=subnet,
                        # The SDK defaults this to True: no node gets a public IP here.
                        enable_node_public_ip=False,
                        remote_login_port_public_access="Disabled",
                    ),
                ),
            )
            for cl in props.clusters
        ]

        self.instances = []
        for inst in props.instances:
            schedules = [
                ml.ComputeStartStopScheduleArgs(
                    action=action,
                    trigger_type="Cron",
                    cron=ml.CronArgs(expression=cron, time_zone=inst.time_zone),
                    status="Enabled",
                )
                for action, cron in (("Start", inst.start_cron), ("Stop", inst.stop_cron))
                if cron
            ]
            self.instances.append(compute(
                f"instance-{inst.name}",
                inst.name,
                ml.ComputeInstanceArgs(
                    compute_type="ComputeInstance",
                    disable_local_auth=True,
                    properties=ml.ComputeInstancePropertiesArgs(
                        vm_size=inst.vm_size,
                        subnet=subnet,
                        enable_node_public_ip=False,
                        ssh_settings=ml.ComputeInstanceSshSettingsArgs(ssh_public_access="Disabled"),
                        idle_time_before_shutdown=f"PT{inst.idle_minutes}M",
                        application_sharing_policy="Personal",
                        compute_instance_authorization_type="personal",
                        personal_compute_instance_settings=ml.PersonalComputeInstanceSettingsArgs(
                            assigned_user=ml.AssignedUserArgs(object_id=inst.user_object_id, tenant_id=props.tenant_id)
                        ),
                        schedules=ml.ComputeSchedulesArgs(compute_start_stop=schedules) if schedules else None,
                    ),
                ),
                runs_as=instance_identity,
            ))

        self.attached = []
        for a in props.attach:
            if a.kind == "SynapseSpark":
                properties: ComputeProperties = ml.SynapseSparkArgs(
                    compute_type="SynapseSpark", resource_id=a.resource_id, disable_local_auth=True
                )
            else:
                properties = ml.DatabricksArgs(
                    compute_type="Databricks",
                    resource_id=a.resource_id,
                    properties=ml.DatabricksPropertiesArgs(
                        workspace_url=a.workspace_url, databricks_access_token=a.access_token
                    ),
                )
            self.attached.append(compute(f"attach-{a.name}", a.name, properties, runs_as=None))

        self.register_outputs({"clusters": [cl.name for cl in props.clusters]})
