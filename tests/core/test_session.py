"""The session headless: no Textual anywhere, against the simulator: the Pattern 1
world converges, an API outage is reported as RECONNECTING with the data kept, and the
session recovers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys, tempfile, time
    from pathlib import Path

    from llmd_console.config import Config
    from llmd_console.models import Phase
    from llmd_console.session import Session, Target
    from llmd_console.sim import SimCluster, SimOptions


    async def until(condition, what, limit=40.0):
        deadline = time.monotonic() + limit
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)


    async def main():
        out = {}
        with SimCluster(SimOptions(speed=200, seed=5)) as sim:
            kubeconfig = sim.write_kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig")
            phases = []
            session = Session(
                Config(), Target(str(kubeconfig), None, None), on_connection=lambda c: phases.append(c.phase.value)
            )
            task = asyncio.create_task(session.run())

            def converged():
                snap = session.snapshot
                return (
                    session.connection.phase is Phase.CONNECTED
                    and [h.light for h in snap.path.hops] == ["ok"] * 5
                    and any(p.role == "decode" and p.is_ready for p in snap.pods.values())
                )

            await until(converged, "the Pattern 1 world")
            snap = session.snapshot
            out["pods"] = sorted(p.role for p in snap.pods.values())
            out["tpu_chips"] = [s.owners.count("") for s in snap.slices.values()]
            out["pools"] = [(p.name, p.accelerator, p.chips) for p in snap.pools]
            await asyncio.to_thread(sim.stop_api)
            await until(lambda: session.connection.phase is Phase.RECONNECTING, "the outage")
            out["reason"] = session.connection.reason
            out["kept_during_outage"] = len(session.snapshot.pods)
            await asyncio.to_thread(sim.restart_api)
            await until(converged, "the recovery")
            out["phases"] = phases
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await session.close()
        out["textual"] = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))[:3]
        print(json.dumps(out))


    asyncio.run(main())
    """
)


def test_the_session_runs_headless_through_an_outage() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["textual"] == []
    assert out["pods"] == ["decode", "epp"]
    assert out["tpu_chips"] == [0]  # the one TPU node's four chips are all held by the decode pod
    assert ["tpu-v6e-pool", "tpu-v6e-slice", 4] in out["pools"]
    assert out["kept_during_outage"] == 2  # what was known stays while disconnected
    assert out["reason"]  # the last error, in words
    phases = out["phases"]
    assert phases[0] == "connecting" and "reconnecting" in phases and phases[-1] == "connected"
    assert phases.index("connected") < phases.index("reconnecting")
