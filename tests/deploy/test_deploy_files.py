"""The deployment files say what Maca needs, checked without Docker or a
cluster: the Compose wiring, the Kubernetes manifests against the Kubernetes
JSON schemas (offline, from the ``kubernetes-validate`` package), the Keycloak
realm against Maca's claim mapping and demo personas, and the Dockerfile's
shape."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import msgspec
import pytest
import yaml

from agencies.kinds import AGENCY_KIND_CODES
from server.db.demo import DEMO_ORGANISATIONS, DEMO_PARTNERSHIP
from server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.30"

# The claim names Maca's claim mapping reads by default. Settings grows
# ``oidc_claim_*`` fields with the identity work; while it has none, this is
# what they must default to.
DEFAULT_CLAIMS = {
    "organisation": "organisation",
    "agency_kind": "agency_kind",
    "partnership": "partnership",
    "roles": "roles",
    "name": "name",
}
ROLES = {"coordinator", "auditor", "reviewer", "admin"}


# --- helpers -------------------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    document = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


def service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"compose.yaml has no service {name!r}"
    result = services[name]
    assert isinstance(result, dict)
    return result


def environment(definition: dict[str, Any]) -> dict[str, str]:
    """A service's or container's environment as a dict, whichever way it is written."""
    env = definition.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


@cache
def realm() -> dict[str, Any]:
    document = json.loads((DEPLOY / "keycloak" / "maca-realm.json").read_text())
    assert isinstance(document, dict)
    return document


def client(client_id: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [c for c in realm()["clients"] if c["clientId"] == client_id]
    assert len(matches) == 1, f"realm has {len(matches)} clients named {client_id!r}"
    return matches[0]


def web_client() -> dict[str, Any]:
    return client(environment(service("maca"))["OIDC_CLIENT_ID"])


def machine_clients() -> list[dict[str, Any]]:
    return [c for c in realm()["clients"] if c.get("serviceAccountsEnabled")]


def claim_mappers(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The client's protocol mappers that put a claim in tokens, by claim name."""
    mappers: dict[str, dict[str, Any]] = {}
    for mapper in definition.get("protocolMappers", []):
        if mapper["protocolMapper"] == "oidc-full-name-mapper":
            mappers["name"] = mapper
        elif "claim.name" in mapper["config"]:
            claim = mapper["config"]["claim.name"]
            assert claim not in mappers, f"two mappers write the claim {claim!r}"
            mappers[claim] = mapper
    return mappers


def audiences(definition: dict[str, Any]) -> set[str]:
    return {
        m["config"]["included.custom.audience"]
        for m in definition.get("protocolMappers", [])
        if m["protocolMapper"] == "oidc-audience-mapper" and m["config"].get("access.token.claim") == "true"
    }


def default_claims() -> dict[str, str]:
    """Maca's default claim names: Settings' ``oidc_claim_*`` defaults where
    they exist, else DEFAULT_CLAIMS."""
    fields = [f for f in msgspec.structs.fields(Settings) if f.name.startswith("oidc_claim_")]
    if not fields:
        return DEFAULT_CLAIMS
    return {f.name.removeprefix("oidc_claim_"): str(f.default) for f in fields if isinstance(f.default, str)}


def settings_variables() -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(Settings)}


def unknown_variables(names: Iterable[str]) -> set[str]:
    """Names that look like Maca settings but are not: MACA_*, and OIDC_*
    once Settings has OIDC_ fields."""
    known = settings_variables()
    prefixes = ("MACA_", "OIDC_") if any(k.startswith("OIDC_") for k in known) else ("MACA_",)
    return {name for name in names if name.startswith(prefixes) and name not in known}


def k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                documents.append((path.name, document))
    return documents


def k8s(kind: str, file: str | None = None) -> dict[str, Any]:
    matches = [d for name, d in k8s_documents() if d["kind"] == kind and (file is None or name == file)]
    assert len(matches) == 1, f"expected one {kind} in deploy/k8s, found {len(matches)}"
    return matches[0]


def pod_containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert isinstance(containers, list)
    return containers


# --- Compose ---------------------------------------------------------------------


def test_compose_has_postgres_keycloak_a_migration_job_and_maca() -> None:
    assert {"postgres", "keycloak", "migrate", "maca"} <= set(compose()["services"])


def test_every_third_party_image_names_its_version() -> None:
    """A ``latest`` tag (or none) changes under a running service on the next
    pull; an upgrade should be a reviewed change to this file."""
    for name, definition in compose()["services"].items():
        image = definition["image"]
        if image.startswith("maca:"):
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned to a version"


def test_postgres_is_16_with_a_volume_and_a_pg_isready_healthcheck() -> None:
    postgres = service("postgres")
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    mounts = {m.split(":")[1]: m.split(":")[0] for m in postgres["volumes"]}
    assert mounts["/var/lib/postgresql/data"] in compose()["volumes"]


def test_migrate_and_maca_run_the_same_image() -> None:
    migrate, maca = service("migrate"), service("maca")
    assert migrate["image"] == maca["image"]
    assert migrate.get("build") == maca.get("build")
    build = maca["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert migrate["command"] == ["migrate"]
    assert maca.get("command", ["serve"]) == ["serve"]


def test_migrate_waits_for_a_healthy_postgres_and_maca_for_a_completed_migration() -> None:
    assert service("migrate")["depends_on"]["postgres"]["condition"] == "service_healthy"
    depends = service("maca")["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert "keycloak" in depends
    assert service("migrate").get("restart", "no") == "no"


def test_the_database_urls_point_at_the_postgres_service_with_its_credentials() -> None:
    postgres = environment(service("postgres"))
    for name in ("migrate", "maca"):
        url = urlsplit(environment(service(name))["DATABASE_URL"])
        assert (url.hostname, url.port or 5432) == ("postgres", 5432), name
        assert (url.username, url.password) == (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"])
        assert url.path == "/" + postgres["POSTGRES_DB"]


def test_keycloak_imports_the_maca_realm_at_start() -> None:
    keycloak = service("keycloak")
    assert keycloak["image"].startswith("quay.io/keycloak/keycloak")
    command = keycloak["command"] if isinstance(keycloak["command"], list) else shlex.split(keycloak["command"])
    assert command[0] == "start-dev"
    assert "--import-realm" in command
    imported = []
    for volume in keycloak["volumes"]:
        source, target = volume.split(":")[:2]
        if target.startswith("/opt/keycloak/data/import/"):
            imported.append((DEPLOY / source).resolve())
    assert imported == [DEPLOY / "keycloak" / "maca-realm.json"]


def test_maca_trusts_the_keycloak_service_realm_and_the_web_client() -> None:
    env = environment(service("maca"))
    assert env["MACA_ENV"] == "production"
    issuer = urlsplit(env["OIDC_ISSUER"])
    assert issuer.hostname == "keycloak"
    assert issuer.path == f"/realms/{realm()['realm']}" == "/realms/maca"
    assert env["OIDC_AUDIENCE"] == "maca"
    assert env["OIDC_CLIENT_ID"] == "maca-web"
    web = web_client()
    assert env["OIDC_AUDIENCE"] in audiences(web)
    assert env["MACA_PUBLIC_URL"].rstrip("/") + "/auth/callback" in web["redirectUris"]


def test_keycloak_issues_tokens_with_the_issuer_maca_expects() -> None:
    """Tokens' ``iss`` comes from KC_HOSTNAME; it must equal OIDC_ISSUER exactly."""
    hostname = environment(service("keycloak"))["KC_HOSTNAME"].rstrip("/")
    assert f"{hostname}/realms/{realm()['realm']}" == environment(service("maca"))["OIDC_ISSUER"]


def test_the_optional_pgbouncer_pools_by_transaction() -> None:
    pgbouncer = compose()["services"].get("pgbouncer")
    if pgbouncer is None:
        pytest.skip("compose.yaml has no pgbouncer service")
    assert environment(pgbouncer)["POOL_MODE"] == "transaction"
    assert pgbouncer.get("profiles"), "pgbouncer should be opt-in (a profile)"


def test_compose_sets_only_variables_maca_knows() -> None:
    for name in ("migrate", "maca"):
        unknown = unknown_variables(environment(service(name)))
        assert not unknown, f"{name}: {unknown} are not Maca settings"


# --- Kubernetes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "index"),
    [(name, i) for i, (name, _) in enumerate(k8s_documents())],
    ids=[f"{name}:{d['kind']}" for name, d in k8s_documents()],
)
def test_every_manifest_is_valid_against_the_kubernetes_schema(file: str, index: int) -> None:
    document = k8s_documents()[index][1]
    try:
        validated = kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(p) for p in error.path)
        pytest.fail(f"{file}: {document['kind']} is not valid Kubernetes {KUBERNETES_VERSION}: {path}: {error.message}")
    assert validated == KUBERNETES_VERSION


def test_the_schema_check_catches_a_misspelt_field() -> None:
    """The validation above is strict: an unknown field is an error, not ignored."""
    deployment = json.loads(json.dumps(k8s("Deployment", "deployment.yaml")))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == files - {"secret.example.yaml"}
    assert "namespace" not in kustomization, "manifests are namespace-agnostic"
    for _, document in k8s_documents():
        assert "namespace" not in document["metadata"]


def test_the_deployment_runs_two_locked_down_replicas_with_probes_and_resources() -> None:
    deployment = k8s("Deployment", "deployment.yaml")
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    [container] = pod_containers(deployment)
    assert container.get("args", ["serve"]) == ["serve"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        port = container[probe]["httpGet"]["port"]
        assert ports.get(port, port) == 8000
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"])
    security = container["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert security["seccompProfile"]["type"] == "RuntimeDefault"
    # A read-only root needs a writable /tmp.
    volumes = {v["name"]: v for v in pod["volumes"]}
    tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert len(tmp) == 1 and "emptyDir" in volumes[tmp[0]["name"]]


def _secret_refs(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container.get("env", []) if "valueFrom" in e}


def test_secrets_come_from_a_secret_and_settings_from_the_configmap() -> None:
    [container] = pod_containers(k8s("Deployment", "deployment.yaml"))
    refs = _secret_refs(container)
    assert {"DATABASE_URL", "OIDC_CLIENT_SECRET"} <= set(refs)
    literal = {e["name"] for e in container.get("env", []) if "value" in e}
    assert not literal & {"DATABASE_URL", "OIDC_CLIENT_SECRET"}
    configmap = k8s("ConfigMap")
    assert [s["configMapRef"]["name"] for s in container["envFrom"]] == [configmap["metadata"]["name"]]
    data = configmap["data"]
    assert data["MACA_ENV"] == "production"
    assert data["OIDC_ISSUER"].startswith("https://")
    assert data["MACA_PUBLIC_URL"].startswith("https://")
    assert {"OIDC_AUDIENCE", "OIDC_CLIENT_ID"} <= set(data)
    assert not {k for k in data if re.search("SECRET|PASSWORD|DATABASE_URL", k)}
    unknown = unknown_variables([*data, *refs])
    assert not unknown, f"{unknown} are not Maca settings"
    # The example Secret provides every key the workloads read.
    example = k8s("Secret", "secret.example.yaml")
    job_refs = _secret_refs(pod_containers(k8s("Job"))[0])
    for ref in [*refs.values(), *job_refs.values()]:
        assert ref["name"] == example["metadata"]["name"]
        assert ref["key"] in example["stringData"]
    assert all("change-me" in value for value in example["stringData"].values())


def test_the_migration_job_runs_maca_migrate_with_the_same_image() -> None:
    job = k8s("Job")
    [container] = pod_containers(job)
    [server] = pod_containers(k8s("Deployment", "deployment.yaml"))
    assert container["image"] == server["image"]
    assert container["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert "DATABASE_URL" in _secret_refs(container)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert "resources" in container


def test_a_worker_deployment_delivers_and_schedules_as_the_owner_beside_servers_that_do_not() -> None:
    """``maca worker`` (issue 20): the same image and lock-down as the
    server, two replicas (a job or a schedule's run is claimed by one), the
    owner's address straight to the primary (the queue LISTENs and holds
    locks across statements, which PgBouncer in transaction mode does not
    carry), the mail secrets optional; no pod of it behind the Service, and
    the servers leave the queue to it."""
    worker = k8s("Deployment", "worker.yaml")
    [server] = pod_containers(k8s("Deployment", "deployment.yaml"))
    [container] = pod_containers(worker)
    assert container["args"] == ["worker"]
    assert container["image"] == server["image"]
    assert worker["spec"]["replicas"] == 2
    refs = _secret_refs(container)
    assert refs["DATABASE_URL"]["key"] == "MIGRATE_DATABASE_URL"
    example = k8s("Secret", "secret.example.yaml")
    assert "pgbouncer" not in example["stringData"]["MIGRATE_DATABASE_URL"]
    for name, ref in refs.items():
        assert ref["name"] == example["metadata"]["name"] and ref["key"] in example["stringData"], name
        assert name == "DATABASE_URL" or ref.get("optional") is True, name
    assert not unknown_variables(refs), "only Maca's settings"
    assert [s["configMapRef"]["name"] for s in container["envFrom"]] == [k8s("ConfigMap")["metadata"]["name"]]
    assert k8s("ConfigMap")["data"]["MACA_WORKER"] == "off", "servers through PgBouncer do not run the queue"
    pod = worker["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    labels = worker["spec"]["template"]["metadata"]["labels"]
    assert worker["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert not k8s("Service")["spec"]["selector"].items() <= labels.items(), "the Service carries no worker"
    assert not k8s("PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert "ports" not in container


def test_the_service_hpa_pdb_and_network_policy_select_the_deployment() -> None:
    deployment = k8s("Deployment", "deployment.yaml")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service_ = k8s("Service")
    assert service_["spec"]["selector"].items() <= labels.items()
    [container] = pod_containers(deployment)
    assert service_["spec"]["ports"][0]["targetPort"] in {p["name"] for p in container["ports"]}

    hpa = k8s("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "maca"}
    assert hpa["spec"]["minReplicas"] >= 2
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}

    pdb = k8s("PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()

    policy = k8s("NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    open_to_all = {p["port"] for rule in policy["spec"]["ingress"] if "from" not in rule for p in rule["ports"]}
    assert open_to_all == {service_["spec"]["ports"][0]["targetPort"]}


# --- Keycloak realm -------------------------------------------------------------------


def test_the_realm_defines_macas_four_roles() -> None:
    assert realm()["realm"] == "maca"
    assert {role["name"] for role in realm()["roles"]["realm"]} == ROLES


def test_the_web_client_is_public_with_pkce_s256_and_the_callback_redirect() -> None:
    web = web_client()
    assert web["publicClient"] is True
    assert web["standardFlowEnabled"] is True
    assert web.get("implicitFlowEnabled", False) is False
    assert web.get("directAccessGrantsEnabled", False) is False
    assert web["attributes"]["pkce.code.challenge.method"] == "S256"
    assert web["redirectUris"]
    for uri in web["redirectUris"]:
        assert uri.endswith("/auth/callback") and "*" not in uri


def test_the_web_clients_tokens_carry_exactly_the_claims_maca_maps() -> None:
    web = web_client()
    assert "maca" in audiences(web)
    mappers = claim_mappers(web)
    expected = default_claims()
    assert set(expected.values()) == set(mappers), "the realm's claims and Maca's default claim mapping differ"
    for claim, mapper in mappers.items():
        config = mapper["config"]
        assert config.get("access.token.claim") == "true", f"{claim} is not in access tokens"
        assert config.get("id.token.claim") == "true", f"{claim} is not in ID tokens"
    for attribute in ("organisation", "agency_kind", "partnership"):
        claim = expected[attribute]
        assert mappers[claim]["protocolMapper"] == "oidc-usermodel-attribute-mapper"
        assert mappers[claim]["config"]["user.attribute"] == attribute
    roles = mappers[expected["roles"]]
    assert roles["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
    assert roles["config"]["multivalued"] == "true"
    assert mappers[expected["name"]]["protocolMapper"] == "oidc-full-name-mapper"


def _scoped_roles(client_id: str) -> set[str]:
    return {r for m in realm().get("scopeMappings", []) if m.get("client") == client_id for r in m["roles"]}


def test_tokens_carry_only_macas_roles() -> None:
    """Full scope off, Maca's roles mapped in: no default-roles-maca noise."""
    for definition in [web_client(), *machine_clients()]:
        assert definition.get("fullScopeAllowed") is False, definition["clientId"]
        assert _scoped_roles(definition["clientId"]) <= ROLES
    assert _scoped_roles(web_client()["clientId"]) == ROLES


DEMO = {code: kind for code, _name, kind in DEMO_ORGANISATIONS}
PERSONAS = [
    ("coordinator", "demo-csc"),
    ("auditor", "demo-health"),
    ("auditor", "demo-police"),
    ("auditor", "demo-school"),
    ("auditor", "demo-csc"),
    ("reviewer", "demo-partnership-team"),
]


def _people() -> list[dict[str, Any]]:
    return [u for u in realm()["users"] if "serviceAccountClientId" not in u]


@pytest.mark.parametrize(("role", "organisation"), PERSONAS)
def test_every_demo_persona_has_a_user(role: str, organisation: str) -> None:
    matches = [
        u
        for u in _people()
        if role in u.get("realmRoles", []) and u.get("attributes", {}).get("organisation") == [organisation]
    ]
    assert len(matches) == 1, f"no single {role} user in {organisation}"
    [user] = matches
    attributes = user["attributes"]
    assert attributes["agency_kind"] == [DEMO[organisation]]
    assert attributes["partnership"] == [DEMO_PARTNERSHIP[0]]
    assert user["enabled"] is True
    assert user.get("firstName") and user.get("lastName")


def test_demo_users_are_consistent_and_their_passwords_temporary_placeholders() -> None:
    for user in _people():
        attributes = user["attributes"]
        assert attributes["agency_kind"][0] in AGENCY_KIND_CODES
        assert DEMO[attributes["organisation"][0]] == attributes["agency_kind"][0]
        assert set(user["realmRoles"]) <= ROLES
        for credential in user["credentials"]:
            assert credential["temporary"] is True
            assert credential["value"].startswith("change-me")


def test_users_cannot_edit_their_own_organisation_agency_or_partnership() -> None:
    [provider] = realm()["components"]["org.keycloak.userprofile.UserProfileProvider"]
    profile = json.loads(provider["config"]["kc.user.profile.config"][0])
    attributes = {a["name"]: a for a in profile["attributes"]}
    assert {"username", "email", "firstName", "lastName"} <= set(attributes)
    for name in ("organisation", "agency_kind", "partnership"):
        assert attributes[name]["permissions"]["edit"] == ["admin"], name


def test_each_agency_system_is_a_client_credentials_client_with_hardcoded_organisation_claims() -> None:
    systems = machine_clients()
    assert {c["clientId"] for c in systems} >= {"demo-health-system", "demo-police-system"}
    service_accounts = {u["serviceAccountClientId"]: u for u in realm()["users"] if "serviceAccountClientId" in u}
    for system in systems:
        name = system["clientId"]
        assert system["publicClient"] is False, name
        assert system["serviceAccountsEnabled"] is True, name
        assert system.get("standardFlowEnabled") is False, name
        assert system["secret"].startswith("change-me"), name
        assert "maca" in audiences(system), name
        mappers = claim_mappers(system)
        claims = default_claims()
        values = {}
        for attribute in ("organisation", "agency_kind", "partnership"):
            mapper = mappers[claims[attribute]]
            assert mapper["protocolMapper"] == "oidc-hardcoded-claim-mapper", (name, attribute)
            assert mapper["config"]["access.token.claim"] == "true"
            values[attribute] = mapper["config"]["claim.value"]
        assert DEMO[values["organisation"]] == values["agency_kind"], name
        assert values["partnership"] == DEMO_PARTNERSHIP[0]
        assert mappers[claims["roles"]]["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
        assert service_accounts[name]["realmRoles"] == ["auditor"]
        assert _scoped_roles(name) == {"auditor"}


# --- Dockerfile ------------------------------------------------------------------------


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile as stages of (INSTRUCTION, arguments), ARG defaults
    substituted into FROM lines."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    args: dict[str, str] = {}
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        rest = rest.strip()
        if instruction == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
            continue
        if instruction == "FROM":
            rest = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], rest)
            stages.append([])
        assert stages, f"{instruction} before the first FROM"
        stages[-1].append((instruction, rest))
    return stages


def instructions(stage: list[tuple[str, str]], name: str) -> list[str]:
    return [rest for instruction, rest in stage if instruction == name]


def test_the_image_is_built_in_stages_and_runs_on_python_3_11_slim() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    final = stages[-1]
    image = instructions(final, "FROM")[0].split()[0]
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", image), image
    earlier = " ".join(rest for stage in stages[:-1] for _, rest in stage)
    assert "npm ci" in earlier
    assert "requirements.lock" in earlier
    copied = " ".join(instructions(final, "COPY"))
    assert "--from=" in copied
    assert "node_modules" in copied


def test_the_final_stage_has_no_build_tools() -> None:
    final = dockerfile_stages()[-1]
    commands = " ".join(instructions(final, "RUN"))
    for tool in ("gcc", "build-essential", "apt-get install", "npm", "curl", "pip install"):
        assert tool not in commands, f"the final stage runs {tool!r}"


def test_the_image_runs_maca_serve_as_a_non_root_user() -> None:
    final = dockerfile_stages()[-1]
    users = instructions(final, "USER")
    assert users, "the final stage sets no USER (it would run as root)"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert json.loads(instructions(final, "ENTRYPOINT")[-1]) == ["maca"]
    assert json.loads(instructions(final, "CMD")[-1]) == ["serve"]
    assert "8000" in instructions(final, "EXPOSE")[-1].split()
    env = " ".join(instructions(final, "ENV"))
    assert re.search(r"\bMACA_HOST=0\.0\.0\.0\b", env)


def test_the_image_checks_its_health_with_python_on_healthz() -> None:
    [healthcheck] = instructions(dockerfile_stages()[-1], "HEALTHCHECK")
    command = json.loads(healthcheck[healthcheck.index("CMD") + 3 :].strip())
    assert command[0] == "python"
    assert "/healthz" in " ".join(command)


def test_the_build_context_lets_through_every_python_package_and_nothing_local() -> None:
    ignore = [line.strip() for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()]
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "**", "start from nothing and allow what the build needs"
    allowed = {rule[1:] for rule in rules if rule.startswith("!")}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        assert f"{pattern.rstrip('*')}/**" in allowed, pattern
    assert {"pyproject.toml", "requirements.lock", "package.json", "package-lock.json"} <= allowed
    assert not any(a.startswith((".venv", ".maca", "node_modules", ".git")) for a in allowed)
