"""The human side of a plan: a console summary and a Markdown report with a Mermaid graph."""

from __future__ import annotations

from collections import Counter, defaultdict

from policies.rules import RuleReport

from infra.offline import prerequisites
from infra.offline.azure_rules import AzureReport
from infra.offline.checkov_gate import CheckovResult
from infra.offline.engine import Plan, PlannedResource


def top_component(by_urn: dict[str, PlannedResource], res: PlannedResource) -> str:
    """The name of the top-level component a resource sits in ('stack' for direct children)."""
    current = res
    while current.parent in by_urn:
        current = by_urn[current.parent]
    return current.name if current is not res or not res.custom else "stack"


def by_component(plan: Plan) -> dict[str, list[PlannedResource]]:
    groups: dict[str, list[PlannedResource]] = defaultdict(list)
    by_urn = plan.by_urn()
    for res in plan.custom():
        groups[top_component(by_urn, res)].append(res)
    return dict(sorted(groups.items()))


def _short(token: str) -> str:
    return token.split(":")[-1]


def summary(plan: Plan, source: str, result: CheckovResult, rules: RuleReport, azure: AzureReport, out_dir: str,
            verb: str = "plan") -> str:
    groups = by_component(plan)
    lines = [f"amlplatform {verb} {plan.stack}  ({source})"]
    lines.append(f"  {len(plan.custom())} Azure resources in {len(groups)} groups")
    if plan.references:
        lines.append("  reads the outputs of " + ", ".join(plan.references) + " (StackReference)")
    for name, items in groups.items():
        kinds = Counter(_short(r.type) for r in items)
        detail = ", ".join(f"{n} {k}" if n > 1 else k for k, n in sorted(kinds.items()))
        lines.append(f"    {name:<20} {len(items):>3}  {detail}")
    lines.append(
        f"  checkov: {result.verdict()}  ({result.passed} passed, {result.failed} failed, "
        f"{result.skipped} skipped with reasons, {result.resource_count} resources scanned)"
    )
    for f in result.failures:
        lines.append(f"    FAILED  {f.check_id} {f.resource}: {f.check_name}")
    for f in result.skips:
        lines.append(f"    skipped {f.check_id} {f.resource}: {f.reason}")
    lines.append(f"  platform rules: {rules.verdict()}  ({len(rules.rules)} rules, {rules.checked} evaluations)")
    for v in rules.violations:
        label = "VIOLATION" if v.level == "mandatory" else "advisory "
        lines.append(f"    {label} {v.rule} {v.urn.rsplit('::', 1)[-1]}: {v.message}")
    lines.append(f"  azure rules: {azure.verdict()}  ({len(azure.rules)} rules over {azure.resources} resources)")
    for finding in azure.findings:
        lines.append(f"    FINDING {finding.rule} {finding.resource}: {finding.message}")
    for risk in azure.risks:
        lines.append(f"    to verify on the first deployment: {risk.rule} {risk.resource}: {risk.message}")
    lines.extend(prerequisite_lines(prerequisites.for_plan(plan)))
    lines.append(f"  wrote {out_dir}/: plan.json template.json rules.json azure.json checkov.json checkov.sarif "
                 "checkov.xml report.md")
    return "\n".join(lines)


def prerequisite_lines(prereq: prerequisites.Prerequisites) -> list[str]:
    """The console lines: providers and features the subscription must have registered."""
    lines = [f"  prerequisites: {len(prereq.providers)} resource provider(s), {len(prereq.features)} feature(s) "
             "to register once per subscription (report.md lists the commands)"]
    lines.append("    providers " + ", ".join(n.name for n in prereq.providers))
    for need in prereq.features:
        state = "declared registered" if need.name in prereq.declared_features else "NOT declared registered"
        lines.append(f"    feature {need.name} ({need.why}): {state}")
    return lines


def prerequisite_markdown(prereq: prerequisites.Prerequisites) -> list[str]:
    out = ["## Prerequisites", "",
           "Register these once per subscription before the first `pulumi up` (registering is idempotent); "
           "features also go in `amlplatform:platform.registeredFeatures`.", "",
           "| kind | name | needed by | declared |", "|---|---|---|---|"]
    out += [f"| provider | `{n.name}` | {n.why} (`{n.urn.rsplit('::', 1)[-1]}`) | |" for n in prereq.providers]
    out += [f"| feature | `{n.name}` | {n.why} (`{n.urn.rsplit('::', 1)[-1]}`) | "
            f"{'yes' if n.name in prereq.declared_features else '**no**'} |" for n in prereq.features]
    commands = [cmd for n in prereq.features for cmd in n.commands[:1]]
    commands += [cmd for n in prereq.providers for cmd in n.commands]
    out += ["", "```sh", *commands, "```", ""]
    return out


def _node_ids(plan: Plan) -> dict[str, str]:
    return {r.urn: f"r{i}" for i, r in enumerate(plan.custom())}


def mermaid(plan: Plan) -> str:
    ids = _node_ids(plan)
    by_urn = plan.by_urn()
    lines = ["flowchart LR"]
    for group, items in by_component(plan).items():
        lines.append(f'  subgraph {group}["{group}"]')
        for r in items:
            lines.append(f'    {ids[r.urn]}["{_short(r.type)}<br/>{r.physical_name or r.name}"]')
        lines.append("  end")
    edges = set()
    for r in plan.custom():
        for dep in r.dependencies:
            target = by_urn.get(dep)
            if target is not None and dep in ids:
                edges.add((ids[dep], ids[r.urn]))
    lines.extend(f"  {a} --> {b}" for a, b in sorted(edges, key=lambda e: (int(e[0][1:]), int(e[1][1:]))))
    return "\n".join(lines)


def markdown(plan: Plan, source: str, result: CheckovResult, rules: RuleReport, azure: AzureReport) -> str:
    groups = by_component(plan)
    out = [
        f"# amlplatform plan: {plan.stack}",
        "",
        f"Stack file: `{source}`. Offline plan (no Azure calls); checkov verdict: **{result.verdict()}**.",
        "",
        f"{len(plan.custom())} Azure resources; checkov {result.passed} passed, {result.failed} failed, "
        f"{result.skipped} skipped, {result.resource_count} resources scanned, "
        f"{result.parsing_errors} parsing errors.",
        "",
        *([f"Reads the outputs of {', '.join(f'`{r}`' for r in plan.references)} through a StackReference "
           "(offline: that stack's plan).", ""] if plan.references else []),
        "## Resources",
        "",
        "| group | type | name | protect |",
        "|---|---|---|---|",
    ]
    for group, items in groups.items():
        for r in items:
            out.append(f"| {group} | `{r.type}` | `{r.physical_name or r.name}` | {'yes' if r.protect else ''} |")
    out += ["", "## Failed checks", ""]
    out += [f"- `{f.check_id}` on `{f.resource}`: {f.check_name}" for f in result.failures] or ["None."]
    out += ["", "## Skipped checks (deliberate, with reasons)", ""]
    out += [f"- `{f.check_id}` on `{f.resource}`: {f.reason}" for f in result.skips] or ["None."]
    out += ["", f"## Platform rules: {rules.verdict()}", ""]
    out += [f"- {v.level} `{v.rule}` on `{v.urn}`: {v.message}" for v in rules.violations] or [
        f"{len(rules.rules)} rules ({', '.join(rules.rules)}), {rules.checked} evaluations, no violations."]
    out += ["", f"## Azure rules: {azure.verdict()}", ""]
    out += [f"- `{a.rule}` on `{a.urn}`: {a.message} ({a.source})" for a in azure.findings] or [
        f"{len(azure.rules)} rules ({', '.join(azure.rules)}) over {azure.resources} resources, no findings."]
    if azure.risks:
        out += ["", "## To verify on the first deployment", "",
                "What a Microsoft source says Azure may refuse and no offline plan can settle (the plan does not "
                "fail on it):", ""]
        out += [f"- `{r.rule}` on `{r.urn}`: {r.message} ({r.source})" for r in azure.risks]
    out += ["", *prerequisite_markdown(prerequisites.for_plan(plan))]
    out += ["## Graph", "", "```mermaid", mermaid(plan), "```", ""]
    if plan.outputs:
        out += ["## Stack outputs", "", "| output | value |", "|---|---|"]
        out += [f"| {k} | `{v}` |" for k, v in sorted(plan.outputs.items())]
        out.append("")
    return "\n".join(out)
