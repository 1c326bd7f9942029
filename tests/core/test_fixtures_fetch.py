"""`python -m tests.fixtures`: checked downloads from 127.0.0.1, verification, the manifest and how it is generated."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
from kube_schemas import UPSTREAM_CRD_FILES
from pytest_httpserver import HTTPServer
from rich.console import Console

from tests.fixtures.__main__ import main
from tests.fixtures.upstream import (
    MANIFEST,
    Entry,
    FixtureError,
    KnownSources,
    Manifest,
    derive_openapi_subset,
    fetch,
    generate_manifest,
    mirrored,
    operations_of,
    verify,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def serve(server: HTTPServer, path: str, data: bytes) -> str:
    server.expect_request(path).respond_with_data(data, content_type="application/octet-stream")
    return server.url_for(path)


def file_entry(path: str, url: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"path": path, "kind": "file", "url": url, "sha256": sha256(data), "licence": "MIT", **extra}


def write_manifest(folder: Path, entries: list[dict[str, Any]], **extra: Any) -> Path:
    path = folder / "manifest.json"
    path.write_text(json.dumps({"format": 1, "files": entries, **extra}), encoding="utf-8")
    return path


def run(*argv: str | Path) -> tuple[int, str]:
    """The CLI's exit code and what it printed (wide enough that no path is folded)."""
    output = io.StringIO()
    code = main([str(arg) for arg in argv], console=Console(file=output, width=240, color_system=None))
    return code, output.getvalue()


def files_below(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())


def tarball(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# -- fetch -----------------------------------------------------------------------------------------------------


def test_fetch_downloads_each_file_checked_against_its_sha256(httpserver_ipv4: HTTPServer, tmp_path: Path) -> None:
    crd, payload = b"kind: CustomResourceDefinition\n", b'{"action": "opened"}\n'
    entries = [
        file_entry("crds/demo.yaml", serve(httpserver_ipv4, f"/acme/crds/{COMMIT}/demo.yaml", crd), crd),
        file_entry("hooks/opened.json", serve(httpserver_ipv4, f"/acme/hooks/{COMMIT}/o.json", payload), payload),
    ]
    manifest, dest = write_manifest(tmp_path, entries), tmp_path / "fixtures"

    code, output = run("fetch", "--dest", dest, "--manifest", manifest)

    assert code == 0, output
    assert (dest / "crds/demo.yaml").read_bytes() == crd
    assert (dest / "hooks/opened.json").read_bytes() == payload
    assert files_below(dest) == ["crds/demo.yaml", "hooks/opened.json"]  # no temporary files left behind
    assert "2 downloaded" in output

    httpserver_ipv4.clear()  # a second fetch finds everything in place and asks for nothing
    outcomes = fetch(Manifest.load(manifest), dest)
    assert [o.status for o in outcomes] == ["present", "present"]
    assert httpserver_ipv4.log == []


def test_a_tampered_download_is_refused_and_nothing_is_written(httpserver_ipv4: HTTPServer, tmp_path: Path) -> None:
    url = serve(httpserver_ipv4, f"/acme/crds/{COMMIT}/demo.yaml", b"kind: Tampered\n")
    manifest = write_manifest(tmp_path, [file_entry("crds/demo.yaml", url, b"kind: CustomResourceDefinition\n")])
    dest = tmp_path / "fixtures"

    code, output = run("fetch", "--dest", dest, "--manifest", manifest)

    assert code == 1
    assert "crds/demo.yaml" in output
    assert "does not match its sha256" in output
    assert not dest.exists()  # no file, and no empty folder that would pass for the data


def test_an_unreachable_file_fails_naming_it(httpserver_ipv4: HTTPServer, tmp_path: Path) -> None:
    httpserver_ipv4.expect_request("/gone").respond_with_data("not found", status=404)
    manifest = Manifest.load(write_manifest(tmp_path, [file_entry("a.json", httpserver_ipv4.url_for("/gone"), b"{}")]))

    (outcome,) = fetch(manifest, tmp_path / "fixtures")

    assert (outcome.path, outcome.status) == ("a.json", "failed")
    assert outcome.detail.endswith("(HTTP 404)")


def npm_entry(path: str, url: str, archive: bytes, member: str, data: bytes) -> dict[str, Any]:
    return {
        "path": path,
        "kind": "npm",
        "url": url,
        "member": member,
        "archive_sha256": sha256(archive),
        "sha256": sha256(data),
        "licence": "MIT",
    }


def test_npm_members_come_from_the_checked_tarball(httpserver_ipv4: HTTPServer, tmp_path: Path) -> None:
    schema, licence = b"type Query { ok: Boolean }\n", b"Our own licence text\n"
    archive = tarball({"package/schema.graphql": schema, "package/LICENSE": licence})
    url = serve(httpserver_ipv4, "/@acme/schema/-/schema-1.2.3.tgz", archive)
    entries = [
        npm_entry("graphql/schema.graphql", url, archive, "package/schema.graphql", schema),
        npm_entry("LICENSES/acme.txt", url, archive, "package/LICENSE", b"another text\n"),
        npm_entry("graphql/absent.graphql", url, archive, "package/absent.graphql", b""),
    ]
    dest = tmp_path / "fixtures"

    outcomes = {o.path: o for o in fetch(Manifest.load(write_manifest(tmp_path, entries)), dest)}

    assert outcomes["graphql/schema.graphql"].status == "downloaded"
    assert outcomes["LICENSES/acme.txt"].status == "failed"
    assert "package/LICENSE does not match its sha256" in outcomes["LICENSES/acme.txt"].detail
    assert outcomes["graphql/absent.graphql"].status == "failed"
    assert files_below(dest) == ["graphql/schema.graphql"]
    assert len(httpserver_ipv4.log) == 1  # one download per tarball


def test_a_tampered_tarball_is_refused_for_every_member(httpserver_ipv4: HTTPServer, tmp_path: Path) -> None:
    schema = b"type Query { ok: Boolean }\n"
    genuine = tarball({"package/schema.graphql": schema})
    url = serve(httpserver_ipv4, "/@acme/schema/-/schema-1.2.3.tgz", tarball({"package/schema.graphql": b"x"}))
    entry = npm_entry("graphql/schema.graphql", url, genuine, "package/schema.graphql", schema)
    dest = tmp_path / "fixtures"

    (outcome,) = fetch(Manifest.load(write_manifest(tmp_path, [entry])), dest)

    assert outcome.status == "failed"
    assert "tarball" in outcome.detail
    assert files_below(dest) == []


def test_a_mirror_serves_https_host_path_below_its_url() -> None:
    url = f"https://raw.githubusercontent.com/acme/crds/{COMMIT}/demo.yaml"
    assert (
        mirrored(url, "http://127.0.0.1:9/cache/")
        == f"http://127.0.0.1:9/cache/raw.githubusercontent.com/acme/crds/{COMMIT}/demo.yaml"
    )
    assert mirrored(url, None) == url


# -- derived and transcribed files --------------------------------------------------------------------------------


def description() -> dict[str, Any]:
    """A small OpenAPI description of our own: two paths, chained references, tags, and webhooks to drop."""
    ref = {"$ref": "#/components/schemas/pull"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Demo API", "version": "1"},
        "tags": [{"name": "issues"}, {"name": "pulls"}],
        "servers": [{"url": "https://api.example.test"}],
        "paths": {
            "/pulls/{number}": {
                "parameters": [{"$ref": "#/components/parameters/number"}],
                "get": {"tags": ["pulls"], "responses": {"200": {"content": {"application/json": {"schema": ref}}}}},
                "delete": {"tags": ["pulls"], "responses": {"204": {"description": "gone"}}},
            },
            "/issues": {"get": {"tags": ["issues"], "responses": {"200": {"$ref": "#/components/responses/list"}}}},
        },
        "x-webhooks": {"ping": {"post": {"responses": {}}}},
        "components": {
            "schemas": {
                "pull": {"type": "object", "properties": {"user": {"$ref": "#/components/schemas/user"}}},
                "user": {"type": "object"},
                "issue": {"type": "object"},
            },
            "parameters": {"number": {"name": "number", "in": "path", "schema": {"type": "integer"}}},
            "responses": {"list": {"description": "issues", "content": {}}},
        },
    }


def test_an_openapi_subset_keeps_its_operations_their_references_and_tags() -> None:
    subset = derive_openapi_subset(description(), ["GET /pulls/{number}"], {"title": "Demo subset"})

    assert operations_of(subset) == ["GET /pulls/{number}"]
    assert list(subset["paths"]["/pulls/{number}"]) == ["parameters", "get"]
    assert subset["components"] == {
        "schemas": {
            "pull": description()["components"]["schemas"]["pull"],
            "user": {"type": "object"},
        },  # transitively
        "parameters": description()["components"]["parameters"],
    }
    assert subset["tags"] == [{"name": "pulls"}]
    assert subset["info"] == {"title": "Demo subset", "version": "1"}
    assert "x-webhooks" not in subset
    assert subset["servers"] == description()["servers"]
    with pytest.raises(FixtureError, match="POST not in the OpenAPI description"):
        derive_openapi_subset(description(), ["POST /issues"], {})


def test_fetch_derives_a_subset_whose_operations_must_match(httpserver_ipv4: HTTPServer, tmp_path: Path) -> None:
    source = json.dumps(description()).encode()
    operations = ["GET /pulls/{number}", "GET /issues"]
    entries = [
        file_entry("openapi/full.json", serve(httpserver_ipv4, f"/acme/api/{COMMIT}/full.json", source), source),
        {
            "path": "openapi/subset.json",
            "kind": "derived",
            "derived_from": "openapi/full.json",
            "operations": operations,
            "info": {"title": "Demo subset"},
            "sha256": "0" * 64,  # a byte-for-byte match is not required of a derived file
            "licence": "MIT",
        },
    ]
    manifest, dest = Manifest.load(write_manifest(tmp_path, entries)), tmp_path / "fixtures"

    outcomes = {o.path: o for o in fetch(manifest, dest)}

    assert outcomes["openapi/subset.json"].status == "derived"
    assert "sha256 differs" in outcomes["openapi/subset.json"].detail
    assert operations_of(json.loads((dest / "openapi/subset.json").read_text())) == operations
    checks = {c.path: c for c in verify(manifest, dest)}
    assert checks["openapi/subset.json"].status == "ok"
    assert "operations match" in checks["openapi/subset.json"].detail

    short = derive_openapi_subset(description(), operations[:1], {})
    (dest / "openapi/subset.json").write_text(json.dumps(short), encoding="utf-8")
    check = {c.path: c for c in verify(manifest, dest)}["openapi/subset.json"]
    assert check.status == "mismatch"
    assert "GET /issues" in check.detail


def vector(secret: str, body: str) -> dict[str, str]:
    return {
        "secret": secret,
        "payload": body,
        "signature": hmac.new(secret.encode(), body.encode(), "sha256").hexdigest(),
    }


def transcribed_entry(content: dict[str, str]) -> dict[str, Any]:
    data = (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode()
    return {
        "path": "hooks/signature.json",
        "kind": "transcribed",
        "url": f"https://raw.githubusercontent.com/acme/docs/{COMMIT}/signatures.md",
        "content": content,
        "check": "hmac-sha256",
        "sha256": sha256(data),
        "licence": "CC-BY-4.0",
    }


def test_a_transcribed_vector_is_written_from_the_manifest_after_its_hmac_checks(tmp_path: Path) -> None:
    good = transcribed_entry(vector("envbot test secret", "envbot test body"))
    broken = transcribed_entry({**vector("envbot test secret", "envbot test body"), "payload": "another body"})

    (written,) = fetch(Manifest.load(write_manifest(tmp_path, [good])), tmp_path / "good")
    (refused,) = fetch(Manifest.load(write_manifest(tmp_path, [broken])), tmp_path / "broken")

    assert written.status == "written"
    assert json.loads((tmp_path / "good/hooks/signature.json").read_text()) == good["content"]
    assert refused.status == "failed"
    assert "HMAC-SHA256" in refused.detail
    assert files_below(tmp_path / "broken") == []


# -- verify ----------------------------------------------------------------------------------------------------


def test_verify_reports_ok_missing_mismatch_and_unlisted_files(tmp_path: Path) -> None:
    folder = tmp_path / "fixtures"
    (folder / "hooks").mkdir(parents=True)
    (folder / "hooks/ok.json").write_bytes(b"{}")
    (folder / "hooks/changed.json").write_bytes(b'{"changed": true}')
    (folder / "hooks/stray.json").write_bytes(b"{}")
    (folder / "NOTES.md").write_text("not fetched\n")
    entries = [
        file_entry(f"hooks/{name}.json", f"https://raw.githubusercontent.com/acme/hooks/{COMMIT}/{name}.json", b"{}")
        for name in ("ok", "changed", "absent")
    ]
    manifest = write_manifest(tmp_path, entries, not_fetched={"NOTES.md": "our notes"})

    statuses = {c.path: c.status for c in verify(Manifest.load(manifest), folder)}
    code, output = run("verify", "--dest", folder, "--manifest", manifest)

    assert statuses == {
        "hooks/ok.json": "ok",
        "hooks/changed.json": "mismatch",
        "hooks/absent.json": "missing",
        "hooks/stray.json": "unlisted",
    }
    assert code == 1
    for expected in ("hooks/changed.json", "hooks/absent.json", "hooks/stray.json", "mismatch", "missing"):
        assert expected in output
    assert "hooks/ok.json" not in output  # only problems, unless --all
    assert "hooks/ok.json" in run("verify", "--all", "--dest", folder, "--manifest", manifest)[1]


# -- the manifest ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"path": "../outside.json"}, "not a plain relative path"),
        ({"path": "/etc/passwd"}, "not a plain relative path"),
        ({"sha256": "abc"}, "64 lowercase hex"),
        ({"kind": "zip"}, "kind 'zip'"),
        ({"licence": ""}, "without licence"),
        ({"url": ""}, "without url"),
    ],
)
def test_a_malformed_entry_is_refused(change: dict[str, str], message: str) -> None:
    entry = file_entry("a.json", f"https://raw.githubusercontent.com/acme/a/{COMMIT}/a.json", b"{}") | change
    with pytest.raises(FixtureError, match=message):
        Entry.from_json(entry)


def test_a_derived_entry_needs_its_source_in_the_manifest() -> None:
    derived = {"path": "b.json", "kind": "derived", "derived_from": "a.json", "operations": ["GET /"]}
    with pytest.raises(FixtureError, match=re.escape("derived from a.json")):
        Manifest((Entry.from_json({**derived, "sha256": "0" * 64, "licence": "MIT"}),))


SOURCES = f"""# Our notes

| repo | commit | commit date | nearest tag | license |
|---|---|---|---|---|
| acme/hooks | {COMMIT} | 2026-01-01 | v1 | MIT |
| acme/docs | {"f" * 40} | - | - | CC-BY-4.0 (docs text) |

| file | bytes | upstream repo | upstream path | commit | license |
|---|---|---|---|---|---|
| hooks/opened.json | 2 | acme/hooks | testdata/opened.json | {COMMIT[:12]} | MIT |
| hooks/closed.json | 3 | acme/hooks | testdata/closed.json | {COMMIT[:12]} | MIT |
"""


def sources_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "fixtures"
    (folder / "hooks").mkdir(parents=True)
    (folder / "SOURCES.md").write_text(SOURCES, encoding="utf-8")
    (folder / "hooks/opened.json").write_bytes(b"{}")
    (folder / "hooks/closed.json").write_bytes(b"[1]")
    (folder / "hooks/signature.json").write_text(json.dumps(vector("s", "p")), encoding="utf-8")
    return folder


KNOWN = KnownSources(
    transcribed={"hooks/signature.json": ("acme/docs", "signatures.md")},
    signature_vectors=frozenset({"hooks/signature.json"}),
    not_fetched={"SOURCES.md": "our notes"},
    needed=("hooks/opened.json",),
)


def test_the_manifest_is_generated_from_the_sources_tables(tmp_path: Path) -> None:
    folder = sources_folder(tmp_path)

    manifest = generate_manifest(folder, KNOWN)

    opened = manifest.entry("hooks/opened.json")
    assert opened.url == f"https://raw.githubusercontent.com/acme/hooks/{COMMIT}/testdata/opened.json"
    assert (opened.kind, opened.sha256, opened.licence, opened.needed) == ("file", sha256(b"{}"), "MIT", True)
    assert not manifest.entry("hooks/closed.json").needed
    signature = manifest.entry("hooks/signature.json")
    assert signature.url == f"https://raw.githubusercontent.com/acme/docs/{'f' * 40}/signatures.md"
    assert (signature.kind, signature.licence, signature.check) == ("transcribed", "CC-BY-4.0", "hmac-sha256")
    assert manifest.upstreams["acme/hooks"] == {"commit": COMMIT, "licence": "MIT"}
    saved = tmp_path / "upstream.json"
    saved.write_text(manifest.to_json(), encoding="utf-8")
    assert Manifest.load(saved) == manifest
    assert all(check.status == "ok" for check in verify(manifest, folder))


def test_generation_refuses_a_file_without_a_source_or_of_another_size(tmp_path: Path) -> None:
    folder = sources_folder(tmp_path)
    (folder / "hooks/stray.json").write_bytes(b"{}")
    with pytest.raises(FixtureError, match=re.escape("hooks/stray.json: no source known")):
        generate_manifest(folder, KNOWN)
    (folder / "hooks/stray.json").unlink()
    (folder / "hooks/closed.json").write_bytes(b"[1, 2]")
    with pytest.raises(FixtureError, match=r"hooks/closed\.json: .* not 3 bytes"):
        generate_manifest(folder, KNOWN)


def test_the_real_manifest_is_well_formed() -> None:
    """Every file is pinned (a 40-hex commit or an exact npm version), has a sha256 and a licence."""
    manifest = Manifest.load(MANIFEST)
    raw = re.compile(r"https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+")
    npm = re.compile(r"https://registry\.npmjs\.org/(@[\w.-]+/)?([\w.-]+)/-/\2-\d+\.\d+\.\d+\.tgz")
    by_path = {entry.path: entry for entry in manifest.entries}
    for entry in manifest.entries:
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256), entry.path
        assert re.fullmatch(r"[A-Za-z0-9.+-]+", entry.licence), entry.path
        if entry.kind in ("file", "transcribed"):
            assert raw.fullmatch(entry.url), entry.path
        elif entry.kind == "npm":
            assert npm.fullmatch(entry.url), entry.path
            assert entry.member.startswith("package/"), entry.path
            assert re.fullmatch(r"[0-9a-f]{64}", entry.archive_sha256), entry.path
        else:
            assert entry.kind == "derived"
            assert by_path[entry.derived_from].kind == "npm", entry.path
            assert entry.operations, entry.path
    assert {e.kind for e in manifest.entries} == {"file", "npm", "derived", "transcribed"}
    for crd in UPSTREAM_CRD_FILES.values():  # what tests/kube_schemas.py validates against is marked as read by tests
        assert by_path[f"crds/{crd}"].needed, crd
    assert by_path["github-openapi/api.github.com.json"].needed  # the subset is derived from it
    assert not by_path["github-webhooks/signature-test-vector.json"].needed


# -- conformance: the manifest against the third-party folder --------------------------------------------------


def test_the_real_manifest_matches_the_fixtures(fixtures_dir: Path) -> None:
    problems = [check for check in verify(Manifest.load(MANIFEST), fixtures_dir) if check.status != "ok"]
    assert problems == []


def test_the_manifest_is_what_the_generator_makes_of_the_fixtures(fixtures_dir: Path) -> None:
    if not (fixtures_dir / "SOURCES.md").is_file():
        pytest.skip("a fetched folder has no SOURCES.md to generate the manifest from")
    assert generate_manifest(fixtures_dir) == Manifest.load(MANIFEST)


def test_fetch_from_a_mirror_rebuilds_the_fixtures(
    fixtures_dir: Path, httpserver_ipv4: HTTPServer, tmp_path: Path
) -> None:
    """The real manifest end to end: every upstream file from a local mirror, the subset derived byte for byte.
    The npm members are put in place first: the tarballs themselves are not in the folder."""
    manifest, dest = Manifest.load(MANIFEST), tmp_path / "fixtures"
    mirror = httpserver_ipv4.url_for("/")
    for entry in manifest.entries:
        if entry.kind == "npm":
            (dest / entry.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fixtures_dir / entry.path, dest / entry.path)
        elif entry.kind == "file":
            served = mirrored(entry.url, mirror).removeprefix(mirror.rstrip("/"))
            httpserver_ipv4.expect_request(served).respond_with_data((fixtures_dir / entry.path).read_bytes())

    outcomes = {o.path: o for o in fetch(manifest, dest, mirror=mirror)}

    assert [o for o in outcomes.values() if o.failed] == []
    assert outcomes["github-openapi/github-rest-subset.json"].detail.endswith("sha256 as recorded")
    assert {o.status for o in outcomes.values()} == {"present", "downloaded", "derived", "written"}
    assert [check for check in verify(manifest, dest) if check.status != "ok"] == []
