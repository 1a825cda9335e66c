"""What ``make dist`` runs inside the clean environment, as source text (that environment has
the wheel, not this repository)."""

from __future__ import annotations

#: Run with the clean environment's Python in an empty folder; ``ECALL_DIST_VERSION`` is the
#: version the wheel must report. Prints what it found; any failure is an exception.
INSTALLED_CHECKS = """
import json
import os
import subprocess
import time
from importlib import metadata
from pathlib import Path

import airflow_provider_ecall

version = os.environ["ECALL_DIST_VERSION"]
assert "site-packages" in airflow_provider_ecall.__file__, airflow_provider_ecall.__file__
assert airflow_provider_ecall.__version__ == metadata.version("airflow-provider-ecall") == version

from airflow.providers_manager import ProvidersManager

manager = ProvidersManager()
provider = manager.providers["airflow-provider-ecall"]
assert provider.version == version, provider.version
info = airflow_provider_ecall.get_provider_info()
assert set(info["notifications"]) <= set(manager.notification), sorted(manager.notification)
try:  # Airflow 3.2 and later: hooks are the task SDK's concern
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hook = ProvidersManagerTaskRuntime().hooks["ecall"]
except ImportError:
    hook = manager.hooks["ecall"]
assert hook is not None and hook.hook_class_name.endswith("EcallHook"), hook
print(f"provider airflow-provider-ecall {provider.version} registered, hook {hook.hook_class_name}")

from airflow import plugins_manager

if hasattr(plugins_manager, "_get_plugins"):
    plugins, errors = plugins_manager._get_plugins()
else:
    plugins_manager.ensure_plugins_loaded()
    plugins, errors = plugins_manager.plugins, plugins_manager.import_errors
names = [plugin.name for plugin in plugins]
assert names.count("ecall_callbacks") == 1 and not errors, (names, errors)
print(f"plugin ecall_callbacks loaded ({len(names)} plugin(s), no import errors)")

port_file = Path("sandbox.port")
server = subprocess.Popen(
    ["ecall-sandbox", "--port", "0", "--port-file", str(port_file), "--quiet"]
)
try:
    deadline = time.monotonic() + 30
    while not (port_file.exists() and port_file.read_text().strip()):
        assert server.poll() is None, f"ecall-sandbox exited with {server.returncode}"
        assert time.monotonic() < deadline, "ecall-sandbox did not start listening in 30 s"
        time.sleep(0.1)
    sandbox = f"http://127.0.0.1:{int(port_file.read_text())}"
    injected = subprocess.run(
        ["ecall-sandbox-inject", "sms", "--sandbox", sandbox, "--from", "+41790000011",
         "--to", "+41790000001", "--message", "dist check"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    message_id = injected.stdout.strip()
    print(f"ecall-sandbox served {sandbox}; ecall-sandbox-inject cached SMS {message_id}")
finally:
    server.terminate()
    server.wait(timeout=10)

unset = {k: v for k, v in os.environ.items() if not k.startswith("ECALL_WATCHDOG_")}
helped = subprocess.run(["ecall-watchdog", "--help"], capture_output=True, text=True, timeout=60)
assert helped.returncode == 0 and "ecall-watchdog" in helped.stdout, helped
refused = subprocess.run(
    ["ecall-watchdog"], capture_output=True, text=True, timeout=60, env=unset
)
assert refused.returncode == 2 and "ECALL_WATCHDOG_AIRFLOW_URL" in refused.stderr, refused
print(f"ecall-watchdog runs; without settings it stops: {refused.stderr.strip()[:60]}...")
"""

#: A user's test file: the ``ecall_sandbox_connection`` fixture comes from the installed
#: wheel's ``pytest11`` entry point, nothing else provides it.
PYTEST_PLUGIN_TEST = """
from airflow_provider_ecall.hooks.ecall import EcallHook


def test_an_sms_through_the_hook_reaches_the_fixture_sandbox(ecall_sandbox_connection):
    EcallHook().send_sms(address="+41790000001", message="dist check")

    [sms] = ecall_sandbox_connection.messages
    assert (sms.addresses, sms.message) == (("+41790000001",), "dist check")
"""
