"""How several GPUs are launched: DDP, FSDP2 and a user's Accelerate config file (logic tested on CPU)."""

from __future__ import annotations

from workbench.training.runs import launch_command
from workbench.training.spec import default_spec, validate_spec


def _flags(command: list[str]) -> list[str]:
    return command[: command.index("-m", 3)]


def test_two_gpus_default_to_ddp(tmp_path):
    spec = default_spec()
    spec["training"]["num_processes"] = 2
    flags = _flags(launch_command(spec, tmp_path, gpus=2))
    assert "--multi_gpu" in flags and "--use_fsdp" not in flags
    assert flags[flags.index("--num_processes") + 1] == "2"


def test_fsdp_is_selected_through_the_spec(tmp_path):
    spec = default_spec()
    spec["training"].update(num_processes=2, distributed="fsdp", mixed_precision="bf16")
    flags = _flags(launch_command(spec, tmp_path, gpus=2))
    assert "--use_fsdp" in flags and "--multi_gpu" not in flags
    assert flags[flags.index("--fsdp_version") + 1] == "2"
    assert flags[flags.index("--fsdp_auto_wrap_policy") + 1] == "TRANSFORMER_BASED_WRAP"
    assert flags[flags.index("--mixed_precision") + 1] == "bf16"


def test_fsdp_on_a_cpu_machine_falls_back_to_one_cpu_process(tmp_path):
    spec = default_spec()
    spec["training"].update(num_processes=2, distributed="fsdp")
    command = launch_command(spec, tmp_path, gpus=0)
    assert "--use_fsdp" not in command and "accelerate.commands.launch" not in command
    assert command[1:3] == ["-m", "workbench.training.child"]  # one CPU process: the child, directly


def test_accelerate_config_file_is_passed_and_checked(tmp_path):
    config = tmp_path / "fsdp.yaml"
    config.write_text("distributed_type: FSDP\n")
    spec = default_spec()
    spec["training"].update(accelerate_config=str(config), num_processes=2)
    flags = _flags(launch_command(spec, tmp_path, gpus=2))
    assert flags[flags.index("--config_file") + 1] == str(config)
    spec["training"]["accelerate_config"] = str(tmp_path / "missing.yaml")
    fields = {error.field for error in validate_spec(spec)}
    assert "training.accelerate_config" in fields


def test_unknown_distributed_mode_is_reported_by_field():
    spec = default_spec()
    spec["training"]["distributed"] = "deepspeed-ish"
    errors = [error for error in validate_spec(spec) if error.field == "training.distributed"]
    assert errors and "fsdp" in errors[0].message
