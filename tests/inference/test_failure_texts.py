"""The explanations of answers the simulator cannot be made to give (an API server proxy
refusing, a Status body, an unknown error), and the deployment's names in every fix."""

from __future__ import annotations

from llmd_console.config import Config
from llmd_console.inference.failures import FixHints, error_message, for_status

HINTS = FixHints("prod", "gw", "route-a", "pool-a", "epp-a", "decode-a")


def test_names_come_from_the_config() -> None:
    hints = FixHints.from_config(Config(), namespace="other")
    assert hints.namespace == "other" and hints.http_route == Config().resources.http_route


def test_fixes_name_the_deployments_objects() -> None:
    route = for_status(500, "fault filter abort", HINTS)
    assert "kubectl get httproute -n prod" in route.fix and "route-a" in route.fix and "pool-a" in route.fix
    epp = for_status(500, "ext_proc_error_gRPC_error_14", HINTS)
    assert epp.kind == "epp_down" and "kubectl scale deploy epp-a -n prod --replicas=1" in epp.fix
    upstream = for_status(503, "no healthy upstream", HINTS)
    assert upstream.kind == "no_upstream" and "decode-a" in upstream.fix
    epp_said = "inference gateway: ServiceUnavailable - failed to find candidate pods for serving the request"
    assert for_status(503, epp_said, HINTS).kind == "no_upstream"


def test_api_server_proxy_answers() -> None:
    status = '{"kind":"Status","status":"Failure","message":"no endpoints available for service \\"x\\"","code":503}'
    assert for_status(503, status, HINTS).kind == "no_upstream"
    forbidden = for_status(403, '{"kind":"Status","message":"services \\"x\\" is forbidden"}', HINTS)
    assert forbidden.kind == "http" and "kubectl auth can-i get services/proxy -n prod" in forbidden.fix


def test_other_answers_quote_the_server_inertly() -> None:
    failure = for_status(502, "bad \x1b]52;c;aGk=\x07 gateway\n" + "x" * 1000, HINTS)
    assert failure.kind == "http" and "\x1b" not in failure.cause and len(failure.cause) < 400


def test_error_message_shapes() -> None:
    assert error_message('{"error": {"message": "m"}}') == "m"
    assert error_message('{"detail": "Not Found"}') == "Not Found"
    assert error_message("[]") is None and error_message("nope") is None
