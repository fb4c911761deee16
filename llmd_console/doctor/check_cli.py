"""``llmd-console check``: the runbook's verification list and every doctor rule, once, for
scripts and CI. A readable table, JSON (``--json``) or JUnit XML (``--junit FILE``).

Exit codes: 0 healthy, 1 warnings only, 2 something fails, 3 the cluster cannot be reached or
the check itself failed.

The JSON document (``schema`` is ``llmd-console/check/v1``)::

    {"schema": "llmd-console/check/v1", "status": "ok|warning|fail|unreachable", "exit_code": 0,
     "context": "...", "server": "...", "namespace": "...", "seconds": 1.23,
     "criteria": [{"number": 1, "title": "...", "status": "pass|fail|skip", "detail": "..."}],
     "findings": [{"id": "...", "severity": "error|warning|info", "area": "...", "title": "...",
                   "evidence": [{"kind": "...", "namespace": "...", "name": "...", "text": "..."}],
                   "fix": ["command", ...], "action": "scale-node-pool" | null, "symptom": false}],
     "error": "..."}   # only when unreachable
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmd_console.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from llmd_console.doctor.criteria import Criterion
    from llmd_console.doctor.findings import Finding
    from llmd_console.doctor.gather import Gathered

SCHEMA = "llmd-console/check/v1"
EXIT_OK, EXIT_WARNINGS, EXIT_FAILURES, EXIT_UNREACHABLE = 0, 1, 2, 3
ALL_NAMESPACES = "all"
DEADLINE_SECONDS = 60.0  # the whole check, whatever hangs
EPILOG = f"""\
exit codes:
  0  healthy: every criterion passed or was skipped, no finding
  1  warnings only
  2  a criterion failed or a finding is an error
  3  the cluster cannot be reached, or the check itself failed

--json prints one document (schema {SCHEMA}): status, exit_code, context, server, namespace,
seconds, criteria[] (number, title, status pass|fail|skip, detail) and findings[] (id, severity,
area, title, evidence[] (kind, namespace, name, text), fix[] (commands), action, symptom).
--junit FILE writes one test case per criterion and per finding (errors are failures).
Thresholds come from the config's doctor: section.
"""


def add_parser(sub: Any) -> None:
    """Register ``check`` on the top-level parser's subparsers."""
    p = sub.add_parser(
        "check",
        help="verify the llm-d stack as the runbook does and run every doctor rule (exit 0/1/2/3)",
        description="Run the runbook's success criteria, a test inference through the gateway and every "
        "doctor rule once; exit 0 healthy, 1 warnings only, 2 failures, 3 unreachable or the check failed.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # SUPPRESS: the same options given before `check` are kept.
    p.add_argument("--kubeconfig", type=Path, default=argparse.SUPPRESS, help="kubeconfig file (as kubectl)")
    p.add_argument("--context", default=argparse.SUPPRESS, help="kubeconfig context")
    p.add_argument("-n", "--namespace", default=argparse.SUPPRESS, help="namespace of the llm-d stack ('all')")
    p.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="config file")
    p.add_argument("--json", action="store_true", help=f"print a JSON document ({SCHEMA}) instead of the table")
    p.add_argument("--junit", type=Path, default=None, metavar="FILE", help="also write JUnit XML to FILE")
    p.add_argument("--no-inference", action="store_true", help="send no test inference")


def exit_code(criteria: list[Criterion], findings: list[Finding]) -> int:
    """0 healthy, 1 warnings only, 2 failures."""
    if any(f.severity == "error" for f in findings) or any(c.status == "fail" for c in criteria):
        return EXIT_FAILURES
    if any(f.severity == "warning" for f in findings):
        return EXIT_WARNINGS
    return EXIT_OK


_STATUS = {EXIT_OK: "ok", EXIT_WARNINGS: "warning", EXIT_FAILURES: "fail", EXIT_UNREACHABLE: "unreachable"}


def report(
    result: Gathered | None, criteria: list[Criterion], findings: list[Finding], code: int, **extra: Any
) -> dict[str, Any]:
    """The JSON document."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "status": _STATUS[code],
        "exit_code": code,
        "context": result.context if result else extra.get("context", ""),
        "server": result.server if result else "",
        "namespace": extra.get("namespace", ""),
        "seconds": round(result.seconds, 3) if result else None,
        "criteria": [c.as_dict() for c in criteria],
        "findings": [f.as_dict() for f in findings],
    }
    if "error" in extra:
        doc["error"] = extra["error"]
    return doc


def junit(doc: dict[str, Any]) -> bytes:
    """JUnit XML: one test case per criterion and one per rule finding (a failure or, for
    warnings, a skipped case with the message), plus one for reaching the cluster."""
    suite = ET.Element("testsuite", name="llmd-console check")
    cases = 0
    failures = 0
    skipped = 0
    if doc["status"] == "unreachable":
        case = ET.SubElement(suite, "testcase", classname="check", name="cluster reachable")
        ET.SubElement(case, "error", message=str(doc.get("error", ""))[:500]).text = str(doc.get("error", ""))
        cases += 1
        suite.set("errors", "1")
    for c in doc["criteria"]:
        case = ET.SubElement(suite, "testcase", classname="criteria", name=f"{c['number']}. {c['title']}")
        cases += 1
        if c["status"] == "fail":
            ET.SubElement(case, "failure", message=c["detail"][:500]).text = c["detail"]
            failures += 1
        elif c["status"] == "skip":
            ET.SubElement(case, "skipped", message=c["detail"][:500])
            skipped += 1
    for f in doc["findings"]:
        subject = f["evidence"][0] if f["evidence"] else {"namespace": "", "name": ""}
        where = "/".join(part for part in (subject["namespace"], subject["name"]) if part)
        case = ET.SubElement(suite, "testcase", classname=f"doctor.{f['area'] or 'rule'}", name=f"{f['id']} {where}")
        cases += 1
        body = "\n".join([f["title"], *(e["text"] for e in f["evidence"]), "fix:", *f["fix"]])
        if f["severity"] == "error":
            ET.SubElement(case, "failure", message=f["title"][:500], type=f["id"]).text = body
            failures += 1
        else:
            ET.SubElement(case, "system-out").text = body
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    suite.set("errors", suite.get("errors", "0"))
    if doc.get("seconds") is not None:
        suite.set("time", str(doc["seconds"]))
    root = ET.Element("testsuites")
    root.append(suite)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


_MARK = {"pass": "ok  ", "fail": "FAIL", "skip": "skip", "error": "FAIL", "warning": "warn", "info": "info"}


def table(doc: dict[str, Any]) -> list[str]:
    """The readable report."""
    lines = [f"llmd-console check: {doc['context'] or '?'} {doc['server']} namespace {doc['namespace'] or 'all'}"]
    if doc["status"] == "unreachable":
        return [*lines, f"UNREACHABLE  {doc.get('error', '')}"]
    lines.append("")
    lines.append("Success criteria (runbook)")
    for c in doc["criteria"]:
        lines.append(f"  {_MARK[c['status']]}  {c['number']}. {c['title']:<28} {c['detail'][:150]}")
    lines.append("")
    lines.append(f"Findings ({len(doc['findings'])})" if doc["findings"] else "Findings: none")
    for f in doc["findings"]:
        lines.append(f"  {_MARK[f['severity']]}  {f['id']}: {f['title']}")
        for e in f["evidence"][:3]:
            where = "/".join(part for part in (e["namespace"], e["name"]) if part)
            lines.append(f"          {e['kind']} {where}: {e['text'][:200]}")
        for command in f["fix"]:
            lines.append(f"          fix: {command}")
        if f["action"]:
            lines.append(f"          console action: {f['action']}")
    lines.append("")
    seconds = f" in {doc['seconds']:.2f} s" if doc.get("seconds") is not None else ""
    lines.append(f"status: {doc['status']} (exit {doc['exit_code']}){seconds}")
    return lines


async def _run(
    config: Config, kubeconfig: str | None, context: str | None, namespace: str | None, infer: bool
) -> Gathered:
    from llmd_console.cluster.kube import KubeClient, KubeError  # noqa: PLC0415 - heavy import, only when checking
    from llmd_console.doctor.gather import Unreachable, gather  # noqa: PLC0415

    try:
        client = await KubeClient.connect(kubeconfig, context, namespace, config.cluster.request_timeout_seconds)
    except KubeError as exc:
        raise Unreachable(exc.message) from None
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            return await gather(client, config, namespace, infer=infer)
    except TimeoutError:
        raise Unreachable(f"the check did not finish within {DEADLINE_SECONDS:g} s") from None
    finally:
        await client.close()


def run(args: argparse.Namespace) -> int:
    """Run the check; print the table or JSON; write JUnit; return the exit code."""
    # Imported here so that `llmd-console --help` and the console stay fast to start.
    from llmd_console.doctor.criteria import success_criteria  # noqa: PLC0415
    from llmd_console.doctor.engine import evaluate  # noqa: PLC0415
    from llmd_console.doctor.gather import Unreachable  # noqa: PLC0415

    try:
        config, _ = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"llmd-console check: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    wanted = getattr(args, "namespace", None) or config.cluster.namespace
    namespace = None if wanted == ALL_NAMESPACES else wanted
    kubeconfig = getattr(args, "kubeconfig", None)
    context = getattr(args, "context", None) or config.cluster.context
    result: Gathered | None = None
    try:
        result = asyncio.run(
            _run(config, str(kubeconfig) if kubeconfig else None, context, namespace, not args.no_inference)
        )
    except Unreachable as exc:
        doc = report(None, [], [], EXIT_UNREACHABLE, error=str(exc), namespace=wanted, context=context or "")
    except Exception as exc:  # the check itself failed: say so, exit 3
        doc = report(
            None, [], [], EXIT_UNREACHABLE, error=f"the check failed: {type(exc).__name__}: {exc}", namespace=wanted
        )
    else:
        criteria = success_criteria(result.snapshot, result.evidence)
        findings = evaluate(result.snapshot, result.evidence)
        doc = report(result, criteria, findings, exit_code(criteria, findings), namespace=wanted)
    if args.junit is not None:
        try:
            args.junit.write_bytes(junit(doc))
        except OSError as exc:
            print(f"llmd-console check: cannot write {args.junit}: {exc.strerror}", file=sys.stderr)
            return EXIT_UNREACHABLE
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print("\n".join(table(doc)))
    return int(doc["exit_code"])
