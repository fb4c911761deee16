"""What runs inside simulated containers, chosen by image."""

from __future__ import annotations

from llmd_console.sim.programs.base import ContainerIO, Exit, Program
from llmd_console.sim.programs.epp import EppProgram
from llmd_console.sim.programs.generic import GenericProgram
from llmd_console.sim.programs.vllm import VllmProgram

__all__ = ["ContainerIO", "Exit", "Program", "program_for"]


def program_for(image: str) -> Program:
    """The program a container image runs."""
    lowered = image.lower()
    if (
        "inference-scheduler" in lowered
        or "endpoint-picker" in lowered
        or "/epp:" in lowered
        or lowered.endswith("/epp")
    ):
        return EppProgram(lowered)
    if "vllm" in lowered or "llm-d-cuda" in lowered or "llm-d-inference-sim" in lowered:
        return VllmProgram(lowered)
    return GenericProgram()
