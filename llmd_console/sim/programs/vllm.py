"""vLLM: a startup that logs like vLLM on TPU (tpu_inference) or GPU, its failure
modes, and the OpenAI-compatible server it ends in."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from llmd_console.sim.inference.vllm_metrics import tpu_block_size
from llmd_console.sim.programs.base import ContainerIO, Exit, resolve_env
from llmd_console.sim.programs.models import ModelInfo, lookup
from llmd_console.sim.programs.vllm_server import VllmServer
from llmd_console.sim.storage.quantity import parse_quantity

VLLM_VERSION = "0.11.1"
# The vLLM release inside images whose tag is not vLLM's own version. llm-d 0.4 images
# were built on vLLM 0.11.2 (llm-d/llm-d#435); its metrics are those of 0.11.1.
IMAGE_VLLM_VERSIONS = {"llm-d-cuda:v0.4.0": "0.11.2"}


def vllm_version(image: str) -> str:
    """The vLLM version an image runs: the tag of vLLM's own images, else the table above."""
    name = image.rsplit("/", 1)[-1]
    if name in IMAGE_VLLM_VERSIONS:
        return IMAGE_VLLM_VERSIONS[name]
    match = re.fullmatch(r"vllm-(?:tpu|openai):v(\d+\.\d+\.\d+)(?:-[\w.]+)?", name)
    return match.group(1) if match else VLLM_VERSION


HBM_GIB_PER_CHIP = {"tpu-v6e-slice": 31.25, "tpu-v5-lite-podslice": 15.75, "tpu7x": 192.0}
GPU_MEM_GIB = 79.19
TOPOLOGY_BOUNDS = {"1x1": "1,1,1", "2x2": "2,2,1", "2x4": "2,4,1", "2x2x1": "2,2,1"}


@dataclass
class VllmConfig:
    """What ``vllm serve`` was asked to do."""

    model: str
    served_name: str
    port: int = 8000
    tp: int = 1
    max_model_len: int | None = None
    max_num_seqs: int = 256
    gpu_memory_utilization: float = 0.9
    prompt_tokens_details: bool = False


def parse_argv(argv: list[str], env: dict[str, str]) -> VllmConfig:
    """Read ``vllm serve MODEL --flag value --flag=value`` (unknown flags are ignored)."""
    flags: dict[str, str] = {}
    positional: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--"):
            if "=" in arg:
                key, value = arg[2:].split("=", 1)
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                key, value = arg[2:], argv[i + 1]
                i += 1
            else:
                key, value = arg[2:], "true"
            flags[key] = value.strip('"')
        elif arg not in ("vllm", "serve", "python3", "python", "-m", "vllm.entrypoints.openai.api_server"):
            positional.append(arg)
        i += 1
    model = flags.get("model") or (positional[0] if positional else env.get("MODEL", "facebook/opt-125m"))
    model = model.removeprefix("hf://")
    cfg = VllmConfig(model=model, served_name=flags.get("served-model-name", model))
    cfg.port = int(flags.get("port", 8000))
    cfg.tp = int(flags.get("tensor-parallel-size", env.get("TP_SIZE", "1")))
    if "max-model-len" in flags:
        cfg.max_model_len = int(flags["max-model-len"])
    cfg.max_num_seqs = int(flags.get("max-num-seqs", 256))
    cfg.gpu_memory_utilization = float(flags.get("gpu-memory-utilization", 0.9))
    cfg.prompt_tokens_details = flags.get("enable-prompt-tokens-details", "false").lower() == "true"
    return cfg


class VllmProgram:
    """``vllm serve`` on TPU or GPU (or the CPU-only llm-d-inference-sim image)."""

    def __init__(self, image: str) -> None:
        self.tpu = "tpu" in image
        self.fake_accelerator = "llm-d-inference-sim" in image
        self.version = vllm_version(image)
        self.pid = 1

    def line(self, io: ContainerIO, proc: str, level: str, where: str, msg: str) -> None:
        """A vLLM log line: ``(Proc pid=N) LEVEL MM-DD HH:MM:SS [file.py:line] message``."""
        stamp = io.ctx.clock.now_dt().strftime("%m-%d %H:%M:%S")
        pid = self.pid if proc == "APIServer" else self.pid + 260
        io.log(f"({proc} pid={pid}) {level} {stamp} [{where}] {msg}")

    def api(self, io: ContainerIO, where: str, msg: str, level: str = "INFO") -> None:
        """A line from the API server process."""
        self.line(io, "APIServer", level, where, msg)

    def engine(self, io: ContainerIO, where: str, msg: str, level: str = "INFO") -> None:
        """A line from the engine core process."""
        self.line(io, "EngineCore_DP0", level, where, msg)

    def traceback(self, io: ContainerIO, frames: list[str], error: str) -> None:
        """A Python traceback ending in ``error``, as the engine prints before exiting."""
        self.engine(io, "core.py:708", "EngineCore failed to start.", "ERROR")
        io.log("Traceback (most recent call last):")
        for frame in frames:
            io.log(f'  File "{frame}"')
        io.log(error)

    async def run(self, io: ContainerIO) -> Exit:
        """Start vLLM; return an Exit on failure, serve forever on success."""
        env = resolve_env(io.ctx, io.pod, io.container)
        cfg = parse_argv(io.argv(), env)
        # Its own generator, seeded by the pod and container names (themselves seeded): the
        # shared one is drawn from by every task in whatever order they run, so a startup's
        # timing would change from run to run.
        rng = random.Random(f"{io.pod['metadata']['name']}/{io.container['name']}")
        info = lookup(cfg.model)
        self.api(io, "api_server.py:1351", f"vLLM API server version {self.version}")
        self.api(
            io,
            "utils.py:253",
            f"non-default args: {{'model_tag': '{cfg.model}', 'port': {cfg.port}, "
            f"'model': '{cfg.model}', 'max_model_len': {cfg.max_model_len}, "
            f"'served_model_name': ['{cfg.served_name}'], 'tensor_parallel_size': {cfg.tp}}}",
        )
        await io.sleep(4.0)
        failure = await self.init_devices(io, cfg, env)
        if failure:
            return failure
        failure = await self.download(io, cfg, info, env)
        if failure:
            return failure
        failure = await self.load_weights(io, cfg, info)
        if failure:
            return failure
        max_len = cfg.max_model_len or (info.max_len if info else 4096)
        took = await self.warm_up(io, cfg, max_len, rng.uniform(0.97, 1.03))
        self.engine(io, "core.py:259", f"init engine (profile, create kv cache, warmup model) took {took:.2f} seconds")
        self.api(io, "api_server.py:1629", "Supported tasks: ['generate']")
        await io.sleep(2.0)
        server = VllmServer(
            cfg.served_name,
            cfg.model,
            max_len,
            cfg.port,
            cfg.max_num_seqs,
            self.kv_tokens(cfg),
            io.log,
            io.ctx.latency,
            # On TPU the KV page size follows max_model_len (vLLM's Pallas backend); CUDA uses 16.
            block_size=tpu_block_size(max_len, cfg.max_num_seqs) if self.tpu else 16,
            gpu_memory_utilization=cfg.gpu_memory_utilization,
            version=self.version,
            prompt_details=cfg.prompt_tokens_details,
        )
        io.serve(server)
        self.api(io, "api_server.py:1945", f"Starting vLLM API server 0 on http://0.0.0.0:{cfg.port}")
        self.api(io, "launcher.py:38", "Available routes are:")
        for route, methods in (
            ("/health", "GET"),
            ("/metrics", "GET"),
            ("/v1/models", "GET"),
            ("/v1/completions", "POST"),
            ("/v1/chat/completions", "POST"),
        ):
            self.api(io, "launcher.py:46", f"Route: {route}, Methods: {methods}")
        io.log(f"(APIServer pid={self.pid}) INFO:     Started server process [{self.pid}]")
        io.log(f"(APIServer pid={self.pid}) INFO:     Waiting for application startup.")
        io.log(f"(APIServer pid={self.pid}) INFO:     Application startup complete.")
        await server.run_forever(io)
        return Exit(0, "Completed")

    async def init_devices(self, io: ContainerIO, cfg: VllmConfig, env: dict[str, str]) -> Exit | None:
        """Find the accelerators; the runbook's device errors come from here."""
        if self.fake_accelerator:
            self.engine(io, "platform.py:120", "Running on a simulated accelerator (llm-d-inference-sim)")
            return None
        labels = io.node_labels()
        if not self.tpu:
            gpus = int(parse_quantity(io.limit("nvidia.com/gpu") or 0))
            self.engine(io, "cuda.py:155", "Initializing CUDA devices")
            await io.sleep(8.0)
            if gpus == 0 or "cloud.google.com/gke-accelerator" not in labels:
                self.traceback(
                    io,
                    ['/usr/local/lib/python3.12/dist-packages/vllm/platforms/cuda.py", line 103'],
                    "RuntimeError: No CUDA GPUs are available",
                )
                return Exit(1, "Error")
            if cfg.tp > gpus:
                self.traceback(
                    io,
                    ['/usr/local/lib/python3.12/dist-packages/vllm/config/parallel.py", line 410'],
                    f"ValueError: World size ({cfg.tp}) is larger than the number of available GPUs ({gpus}) "
                    "in this node.",
                )
                return Exit(1, "Error")
            return None
        chips = int(parse_quantity(io.limit("google.com/tpu") or 0))
        accelerator = labels.get("cloud.google.com/gke-tpu-accelerator", "")
        topology = labels.get("cloud.google.com/gke-tpu-topology", "")
        self.engine(io, "tpu_platform.py:88", "Initializing TPU: PJRT_DEVICE=TPU, loading libtpu")
        await io.sleep(20.0)
        if chips == 0 or not accelerator:
            self.engine(io, "tpu_worker.py:201", "Failed to get TPU devices from JAX: no TPU backend", "ERROR")
            self.traceback(
                io,
                ['/workspace/tpu_inference/tpu_inference/worker/tpu_worker.py", line 203, in init_device'],
                "RuntimeError: No TPU devices found",
            )
            return Exit(1, "Error")
        expected = TOPOLOGY_BOUNDS.get(topology)
        bounds = env.get("TPU_CHIPS_PER_HOST_BOUNDS")
        if bounds and expected and bounds.replace(" ", "") != expected:
            self.engine(
                io,
                "tpu_worker.py:190",
                f"TPU_CHIPS_PER_HOST_BOUNDS={bounds} does not match the host topology {topology} ({expected})",
                "ERROR",
            )
            self.traceback(
                io,
                ['/usr/local/lib/python3.12/site-packages/jax/_src/xla_bridge.py", line 1010, in backends'],
                "RuntimeError: Unable to initialize backend 'tpu': INTERNAL: PJRT error: Failed to initialize "
                f"TPU: chips per host bounds {bounds} are not consistent with the {chips} chips attached to "
                "this host",
            )
            return Exit(1, "Error")
        if cfg.tp > chips:
            self.traceback(
                io,
                ['/workspace/tpu_inference/tpu_inference/runner/tpu_runner.py", line 300, in _init_mesh'],
                f"ValueError: Number of devices {chips} must be >= the product of mesh_shape (1, {cfg.tp})",
            )
            return Exit(1, "Error")
        hbm = HBM_GIB_PER_CHIP.get(accelerator, 31.25)
        devices = ", ".join(
            f"TpuDevice(id={i}, process_index=0, coords=({i % 2},{i // 2},0), core_on_chip=0)" for i in range(chips)
        )
        self.engine(
            io, "tpu_runner.py:302", f"Init mesh | mesh=Mesh('data': 1, 'model': {cfg.tp}, axis_types=(Auto, Auto))"
        )
        self.engine(
            io,
            "tpu_worker.py:279",
            f"Init worker | rank=0 | is_first_rank=True | "
            f"hbm=[{', '.join(f'(0.0, {hbm})' for _ in range(chips))}]GiB | "
            f"self.devices=[{devices}]",
        )
        return None

    async def download(
        self, io: ContainerIO, cfg: VllmConfig, info: ModelInfo | None, env: dict[str, str]
    ) -> Exit | None:
        """Fetch the weights from the Hugging Face Hub (once per pod: the cache is an emptyDir)."""
        token = env.get("HF_TOKEN") or env.get("HUGGING_FACE_HUB_TOKEN")
        url = f"https://huggingface.co/api/models/{cfg.model}/revision/main"
        self.engine(io, "weight_utils.py:402", f"Downloading model {cfg.model} from the Hugging Face Hub")
        await io.sleep(2.0)
        if token is not None and not re.fullmatch(r"hf_[A-Za-z0-9]{20,}", token.strip()):
            self.traceback(
                io,
                [
                    '/usr/local/lib/python3.12/site-packages/huggingface_hub/utils/_http.py", line 409, in '
                    "hf_raise_for_status"
                ],
                f"requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: {url}",
            )
            return Exit(1, "Error")
        if info is None:
            self.traceback(
                io,
                ['/usr/local/lib/python3.12/site-packages/huggingface_hub/utils/_http.py", line 409'],
                f"huggingface_hub.errors.RepositoryNotFoundError: 404 Client Error. Repository Not Found "
                f"for url: {url}",
            )
            return Exit(1, "Error")
        if info.gated and not token:
            self.traceback(
                io,
                ['/usr/local/lib/python3.12/site-packages/huggingface_hub/utils/_http.py", line 426'],
                f"huggingface_hub.errors.GatedRepoError: 401 Client Error. Cannot access gated repo for url: {url}",
            )
            return Exit(1, "Error")
        if not io.pod_state.get("model_cached"):
            seconds = 25.0 + info.weights_gib * 7.5
            for pct in (25, 50, 75, 100):
                await io.sleep(seconds / 4)
                self.engine(
                    io,
                    "weight_utils.py:430",
                    f"Downloading model.safetensors: {pct}% "
                    f"({info.weights_gib * pct / 100:.2f}G/{info.weights_gib:.2f}G)",
                )
            io.pod_state["model_cached"] = True
            self.engine(
                io, "weight_utils.py:445", f"Time spent downloading weights for {cfg.model}: {seconds:.6f} seconds"
            )
        return None

    async def load_weights(self, io: ContainerIO, cfg: VllmConfig, info: ModelInfo | None) -> Exit | None:
        """Load weights onto the chips; the OOM and sharding failures come from here."""
        assert info is not None
        where = "model_loader.py:381" if self.tpu else "gpu_model_runner.py:2602"
        self.engine(
            io,
            where,
            "Loading model on TPU with MODEL_IMPL_TYPE=auto" if self.tpu else f"Starting to load model {cfg.model}...",
        )
        limit = io.limit("memory")
        max_len = cfg.max_model_len or info.max_len
        host_gib = info.weights_gib * 1.25 + max_len / 1024 * 0.75
        await io.sleep(3.0 + info.weights_gib)
        if limit is not None and host_gib * 2**30 > float(parse_quantity(limit)):
            loaded = min(99, int(100 * float(parse_quantity(limit)) / (host_gib * 2**30)))
            # The kernel's OOM killer ends the process without a Python traceback.
            self.engine(
                io,
                where,
                f"Loading safetensors checkpoint shards: {loaded}% Completed",
            )
            return Exit(137, "OOMKilled")
        if self.tpu and cfg.tp > 1 and info.kv_heads % cfg.tp:
            self.traceback(
                io,
                [
                    '/workspace/tpu_inference/tpu_inference/kernels/ragged_paged_attention/v3/kernel.py", '
                    "line 1530, in ragged_paged_attention"
                ],
                "ValueError: shard_map applied to the function '_ragged_paged_attention' was given argument "
                "arrays with axis sizes that are not evenly divisible by the corresponding mesh axis sizes: "
                f"The mesh given has shape (1, {cfg.tp}) with corresponding axis names ('data', 'model').",
            )
            return Exit(1, "Error")
        self.engine(io, "default_loader.py:308", f"Loading weights took {2.0 + info.weights_gib * 0.6:.2f} seconds")
        if self.tpu:
            self.engine(
                io, "tpu_runner.py:1264", f"Init model | hbm=[({info.weights_gib / max(cfg.tp, 1):.2f}, 31.25)]GiB"
            )
        else:
            self.engine(
                io,
                "gpu_model_runner.py:2653",
                f"Model loading took {info.weights_gib:.4f} GiB and {3.0 + info.weights_gib:.6f} seconds",
            )
        return None

    def kv_tokens(self, cfg: VllmConfig) -> int:
        """KV-cache capacity in tokens, as the startup log reports it."""
        return 509_184 * max(cfg.tp, 1) if self.tpu else 1_661_008

    async def warm_up(self, io: ContainerIO, cfg: VllmConfig, max_len: int, jitter: float) -> float:
        """KV cache and XLA precompilation (TPU) or CUDA graph capture (GPU); returns seconds taken."""
        kv_tokens = self.kv_tokens(cfg)
        self.engine(io, "kv_cache_utils.py:1199", f"GPU KV cache size: {kv_tokens:,} tokens")
        self.engine(
            io,
            "kv_cache_utils.py:1204",
            f"Maximum concurrency for {max_len:,} tokens per request: {kv_tokens / max_len:.2f}x",
        )
        if not self.tpu:
            await io.sleep(45.0 * jitter)
            self.engine(io, "gpu_model_runner.py:3815", "Graph capturing finished in 7 secs, took 0.32 GiB")
            return 52.14 * jitter
        self.engine(io, "compilation_manager.py:52", "Enabling JAX compile cache.")
        self.engine(io, "compilation_manager.py:236", "Precompile all the subgraphs with possible input shapes.")
        paddings = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
        total = 151.45 * jitter
        per = total / (len(paddings) + 1)
        for tokens in paddings:
            await io.sleep(per)
            self.engine(
                io,
                "compilation_manager.py:137",
                f"Precompile worker0 backbone --> {{'num_tokens': {tokens}, "
                f"'num_reqs': {min(tokens, cfg.max_num_seqs)}}}",
            )
            self.engine(
                io,
                "compilation_manager.py:188",
                f"Compilation of worker0 backbone --> {{'num_tokens': {tokens}}} finished in {per:.2f} [secs].",
            )
        await io.sleep(per)
        self.engine(io, "compilation_manager.py:949", "Compiling sampling with different input shapes.")
        return total
