"""The asset cache (infra/seeding/cache.py): a hit gives the program exactly what azure-ai-ml gives, and a
change to anything the bodies depend on is loaded with azure-ai-ml again, never served stale."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra import config
from infra import seeding
from infra.cli import main as cli
from infra.offline import stack as offline_stack
from infra.seeding import cache, sdk
from tests.assets_corpus import relock
from tests.conftest import ROOT, raw_stack

ACCOUNT = "stcontosodevdata"


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV, str(folder))
    monkeypatch.setattr(seeding, "_CACHE", {})
    return folder


@pytest.fixture()
def folder(tmp_path) -> Path:
    shutil.copytree(ROOT / "assets", tmp_path / "assets", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "assets"


def load(folder: Path, account: str = ACCOUNT, **kwargs) -> seeding.AssetSet:
    """A load as a new process would make it (the in-process memo forgotten)."""
    seeding._CACHE.clear()
    return seeding.load(folder, storage_account=account, **kwargs)


def bodies(assets: seeding.AssetSet) -> dict[str, object]:
    return {a.file: a.body for a in assets.assets}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def test_a_hit_gives_the_bodies_azure_ai_ml_gives(cache_dir, folder):
    direct = load(folder, use_cache=False)
    miss = load(folder)
    assert all(a.entity is not None for a in miss.assets)  # azure-ai-ml ran and filled the cache
    assert len(list(cache_dir.glob("*.json"))) == 1
    hit = load(folder)
    assert all(a.entity is None for a in hit.assets)  # azure-ai-ml did not run
    assert bodies(hit) == bodies(miss) == bodies(direct)
    # ... and JSON lost nothing of what azure-ai-ml's serialisers gave.
    assert bodies(direct) == {a.file: sdk._body(a) for a in direct.assets}
    got = bodies(hit)
    assert got["datastores/landing_blob.yml"] == {
        "account_name": "contosolanding", "container_name": "landing", "description":
        "Landing zone for raw source files (identity-based access).", "endpoint": "core.windows.net",
        "protocol": "https", "tags": {"zone": "landing"}}
    assert got["data/credit_defaults_raw.yml"]["dataUri"] == (
        "azureml://datastores/landing_blob/paths/credit/default_of_credit_card_clients.csv")
    assert got["environments/sklearn-train.yml"]["image"].startswith("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04")
    assert got["pipelines/retrain.yml"] is None  # the program builds pipelines from the schedule's body


def test_the_dev_plan_is_the_same_from_the_cache(cache_dir, monkeypatch):
    raw = raw_stack("dev")

    def plan() -> str:
        seeding._CACHE.clear()
        cfg = config.parse(raw, "stacks/Pulumi.dev.yaml", "dev")
        cfg._root = str(ROOT)
        return offline_stack.plan_stack(cfg, raw)[0].to_json()

    monkeypatch.setenv(cache.ENV, "")
    without = plan()
    monkeypatch.setenv(cache.ENV, str(cache_dir))
    assert plan() == without  # a miss fills the cache
    assert len(list(cache_dir.glob("*.json"))) == 1
    assert plan() == without  # a hit


def test_a_platform_datastore_is_keyed_by_the_stack_account(cache_dir, folder):
    edit(folder / "datastores/curated_adls.yml", "account_name: contosodatalake",
         "account_name: ${platform.storageAccount}")
    first = load(folder, "stdevdata")
    other = load(folder, "stproddata")
    assert all(a.entity is not None for a in other.assets)  # another account: azure-ai-ml again
    assert len(list(cache_dir.glob("*.json"))) == 2
    assert [load(folder, account).find("datastore", "curated_adls").body["account_name"]
            for account in ("stdevdata", "stproddata")] == ["stdevdata", "stproddata"]  # both hits
    assert first.find("datastore", "curated_adls").entity is not None


def test_an_edited_file_is_validated_again(cache_dir, folder):
    load(folder)
    edit(folder / "schedules/weekly_retrain.yml", "frequency: week", "frequency: fortnight")
    with pytest.raises(config.ConfigError) as err:
        load(folder)
    assert str(err.value).splitlines() == [f"{folder}/schedules/weekly_retrain.yml: trigger.frequency: 'fortnight' "
                                           "is not one of: minute, hour, day, week, month"]
    assert len(list(cache_dir.glob("*.json"))) == 1  # a refused folder is never cached


def test_an_edited_upload_gives_the_new_upload_uri(cache_dir, folder):
    before = load(folder).find("data", "credit_defaults_table")
    table = folder / "data/credit-defaults-mltable/MLTable"
    table.write_text(table.read_text() + "\n# a comment is content too\n")
    relock(folder)
    after = load(folder).find("data", "credit_defaults_table")
    assert after.entity is not None
    assert after.body["dataUri"] != before.body["dataUri"]
    assert after.body["dataUri"] == (f"azureml://datastores/workspaceblobstore/paths/LocalUpload/"
                                     f"{after.uploads['path'].sha256[:32]}/credit-defaults-mltable/")


def test_the_key_covers_the_account_the_packages_and_every_file(folder, cache_dir, monkeypatch):
    assets = load(folder)
    base = cache.key(assets, ACCOUNT)
    assert cache.key(assets, "other") != base
    (folder / "README.md").write_text("a note beside the assets\n")
    assert cache.key(assets, ACCOUNT) != base
    (folder / "README.md").unlink()
    assert cache.key(assets, ACCOUNT) == base
    real = cache.metadata.version
    monkeypatch.setattr(cache.metadata, "version", lambda p: "9.9.9" if p == "azure-ai-ml" else real(p))
    assert cache.key(assets, ACCOUNT) != base


@pytest.mark.parametrize("content", ["{", "[]", '{"key": "other", "bodies": {}}'])
def test_a_broken_or_foreign_cache_file_is_passed_over(cache_dir, folder, content):
    direct = bodies(load(folder, use_cache=False))
    load(folder)
    (stored,) = cache_dir.glob("*.json")
    stored.write_text(content)
    again = load(folder)
    assert all(a.entity is not None for a in again.assets) and bodies(again) == direct
    assert json.loads(stored.read_text())["key"] == stored.stem  # written again


def test_a_cache_file_missing_an_asset_is_passed_over(cache_dir, folder):
    load(folder)
    (stored,) = cache_dir.glob("*.json")
    data = json.loads(stored.read_text())
    del data["bodies"]["datastores/landing_blob.yml"]
    stored.write_text(json.dumps(data))
    assert all(a.entity is not None for a in load(folder).assets)


def test_an_unusable_cache_directory_is_passed_over(tmp_path, folder, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv(cache.ENV, str(blocker))
    direct = bodies(load(folder, use_cache=False))
    assert bodies(load(folder)) == direct and bodies(load(folder)) == direct
    assert blocker.read_text() == ""


def test_an_empty_setting_turns_the_cache_off(folder, monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV, "")
    monkeypatch.chdir(tmp_path)
    assert cache.directory() is None
    assert cache.key(load(folder), ACCOUNT) is None
    assert all(a.entity is not None for a in load(folder).assets)


def test_the_default_directory_is_the_checkouts(monkeypatch):
    monkeypatch.delenv(cache.ENV, raising=False)
    assert cache.directory() == ROOT / ".cache" / "assets"
    assert ".cache/" in (ROOT / ".gitignore").read_text().splitlines()


def test_only_the_newest_files_are_kept(cache_dir, monkeypatch):
    monkeypatch.setattr(cache, "KEEP", 2)
    for n in range(4):
        cache.write(f"{n:064x}", {})
    assert sorted(p.stem for p in cache_dir.glob("*.json")) == [f"{n:064x}" for n in (2, 3)]
    assert not list(cache_dir.glob(".*.tmp"))


def test_a_hit_does_not_import_azure_ai_ml(cache_dir, folder):
    load(folder)
    probe = ("import sys; from pathlib import Path; from infra import seeding; "
             f"s = seeding.load(Path({str(folder)!r}), storage_account={ACCOUNT!r}); "
             "print(len(s.assets), 'azure.ai.ml' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == [str(len(load(folder).assets)), "False"]


def test_assets_validate_always_runs_azure_ai_ml(cache_dir, monkeypatch, capsys):
    load(ROOT / "assets")

    def refuse(*args, **kwargs):
        raise AssertionError("assets validate read the cache")

    monkeypatch.setattr(cache, "read", refuse)
    assert cli.main(["assets", "validate", "--root", str(ROOT)]) == 0
    assert "valid in assets/" in capsys.readouterr().out


def test_azure_ai_ml_switches_are_in_the_key(cache_dir, folder, monkeypatch):
    assets = load(folder)
    base = cache.key(assets, ACCOUNT)
    monkeypatch.setenv("AZURE_ML_CLI_PRIVATE_FEATURES_ENABLED", "true")  # widens what the schemas accept
    assert cache.key(assets, ACCOUNT) != base
    assert all(a.entity is not None for a in load(folder).assets)


def test_an_upload_blob_prefix_is_in_the_key(cache_dir, folder):
    # The data's YAML names a link; the link moves to a copy under another name: same bytes, another prefix.
    data = folder / "data"
    (data / "tables").mkdir()
    shutil.copytree(data / "credit-defaults-mltable", data / "tables" / "renamed-mltable")
    (data / "link").symlink_to("credit-defaults-mltable")
    edit(data / "credit_defaults_table.yml", "path: ./credit-defaults-mltable", "path: ./link")
    relock(folder)
    before = load(folder).find("data", "credit_defaults_table")
    (data / "link").unlink()
    (data / "link").symlink_to("tables/renamed-mltable")
    after = load(folder).find("data", "credit_defaults_table")
    assert after.entity is not None and after.uploads["path"].sha256 == before.uploads["path"].sha256
    assert before.body["dataUri"].endswith("/credit-defaults-mltable/")
    assert after.body["dataUri"].endswith("/renamed-mltable/")


def test_a_conda_file_outside_the_folder_is_in_the_key(cache_dir, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "assets", repo / "assets", ignore=shutil.ignore_patterns("__pycache__"))
    folder = repo / "assets"
    env = folder / "environments/sklearn-train.yml"
    conda = next(line.split(":", 1)[1].strip() for line in env.read_text().splitlines()
                 if line.startswith("conda_file:"))
    (repo / "shared").mkdir()
    shutil.move(env.parent / conda, repo / "shared" / "conda.yml")
    edit(env, f"conda_file: {conda}", "conda_file: ../../shared/conda.yml")
    relock(folder)
    load(folder)
    edit(repo / "shared" / "conda.yml", "pandas==2.2.2", "pandas==2.2.3")
    relock(folder)
    again = load(folder).find("environment", "sklearn-train")
    assert again.entity is not None and "pandas==2.2.3" in again.body["condaFile"]


def test_a_folder_edited_while_azure_ai_ml_reads_it_is_not_kept(cache_dir, folder, monkeypatch):
    own = sdk._loaders

    def loaders(account):
        table = own(account)
        first = table["datastore"]

        def datastore(path, asset):
            (folder / "README.md").write_text("saved during the load\n")
            return first(path, asset)
        return {**table, "datastore": datastore}

    monkeypatch.setattr(sdk, "_loaders", loaders)
    load(folder)
    assert not list(cache_dir.glob("*.json"))


def test_pruning_leaves_other_files_alone(cache_dir, monkeypatch):
    monkeypatch.setattr(cache, "KEEP", 1)
    cache_dir.mkdir()
    (cache_dir / "settings.json").write_text("{}")
    for n in range(3):
        cache.write(f"{n:064x}", {})
    assert sorted(p.name for p in cache_dir.iterdir()) == [f"{2:064x}.json", "settings.json"]
