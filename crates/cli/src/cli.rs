//! Every flag of every command, defined once. Help, the man page and shell completions
//! are all generated from these definitions.

use berth_sync::config::defaults as D;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "One short spec (berth.yaml) to a verified, production-grade Kubernetes deployment",
    long_about = None,
    propagate_version = true
)]
pub(crate) struct Cli {
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    pub(crate) fn use_color(self) -> bool {
        match self {
            Color::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
            Color::Always => true,
            Color::Never => false,
        }
    }
}

#[cfg(feature = "full")]
/// Output format for commands whose result scripts may want to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum OutputFormat {
    #[default]
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Render every environment of an app into APP/out/ and print a summary.
    #[cfg(feature = "full")]
    Build(BuildArgs),
    /// Render one environment of an app as Kubernetes manifests.
    #[cfg(feature = "full")]
    Render(RenderArgs),
    /// Seal values or a Secret manifest into a SealedSecret the Sealed Secrets controller decrypts.
    #[cfg(feature = "full")]
    Seal(SealArgs),
    /// Decrypt a SealedSecret offline with the controller's private keys (disaster recovery).
    #[cfg(feature = "full")]
    Unseal(UnsealArgs),
    /// Check Kubernetes manifests (or every environment of an app): schema, production-readiness
    /// and cross-resource rules.
    #[cfg(feature = "full")]
    Check(CheckArgs),
    /// Explain a `berth check` rule (what it checks, why, how to fix it), or where a rendered
    /// field's value came from: its berth.yaml line, a documented default, or the rule that
    /// derived it.
    #[cfg(feature = "full")]
    Explain(ExplainArgs),
    /// The fields that differ between two environments' renders, each with both values and
    /// both origins.
    #[cfg(feature = "full")]
    DiffEnv(DiffEnvArgs),
    /// How much cluster an app needs: pods, CPU, memory and storage per environment at its
    /// minimum and maximum replicas; with --nodes, whether that fits a node pool.
    #[cfg(feature = "full")]
    Capacity(CapacityArgs),
    /// The architecture as the NetworkPolicies enforce it: services, data services, ingress hosts
    /// and external endpoints, with the connections the rendered policies allow.
    #[cfg(feature = "full")]
    Graph(GraphArgs),
    /// What to type at 3 a.m.: deploy, verify, roll back and troubleshoot one environment, with
    /// every command complete (Markdown; `-o json` for the sections and commands as data).
    #[cfg(feature = "full")]
    Runbook(RunbookArgs),
    /// Run the config-sync sidecar: sync config from S3 or a folder into ROOT/current, validated,
    /// swapped atomically, reloaded, verified and rolled back on failure.
    ConfigSync(ConfigSyncArgs),
    /// Manage an environment's secret values: seal one into its committed file (`set`), or see
    /// which exist (`list`). Values are never printed.
    #[command(subcommand)]
    #[cfg(feature = "full")]
    Secret(SecretCommand),
    /// Import a Docker Compose project: write a reviewed berth.yaml and print a report of
    /// everything that changed or was dropped.
    #[cfg(feature = "full")]
    Import(ImportArgs),
    /// Write a starter berth.yaml (no compose file needed) that renders and checks clean.
    #[cfg(feature = "full")]
    Init(InitArgs),
    /// Print the JSON Schema of berth.yaml (for editor completion and validation).
    #[cfg(feature = "full")]
    Schema,
    /// Print shell completions.
    #[cfg(feature = "full")]
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    #[cfg(feature = "full")]
    Man,
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    /// App directory (holding berth.yaml) or the spec file itself.
    #[arg(default_value = ".")]
    pub app: PathBuf,
    /// Summary format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Where to write (default: APP/out).
    #[arg(long = "out-dir")]
    pub out_dir: Option<PathBuf>,
    #[command(flatten)]
    pub argocd: ArgoCdArgs,
    /// Accept `secrets: { mode: plain }` outside dev environments (plaintext values in manifests).
    #[arg(long)]
    pub allow_plain_secrets: bool,
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    /// App directory (holding berth.yaml) or the spec file itself.
    #[arg(default_value = ".")]
    pub app: PathBuf,
    /// Environment to render (one of the spec's `environments`).
    #[arg(short = 'e', long = "env")]
    pub env: Option<String>,
    /// Write one file per object (and all.yaml) into DIR, atomically, instead of stdout.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// What to write: one environment's manifests, or (into -o DIR, for every environment) a
    /// Kustomize tree, a Helm chart, Argo CD applications, a Compose file or the monitoring objects.
    #[arg(long = "format", value_enum, default_value_t = EmitFormat::Manifests)]
    pub format: EmitFormat,
    #[command(flatten)]
    pub argocd: ArgoCdArgs,
    /// Accept `secrets: { mode: plain }` outside dev environments (plaintext values in manifests).
    #[arg(long)]
    pub allow_plain_secrets: bool,
}

#[cfg(feature = "full")]
/// Output formats of `berth render` (`berth build` writes all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum EmitFormat {
    /// Kubernetes manifests of one environment (stdout, or one file per object in -o DIR).
    #[default]
    Manifests,
    /// `base/` plus `overlays/ENV/` with only each environment's differences.
    Kustomize,
    /// A Helm chart with values.yaml and values-ENV.yaml.
    Helm,
    /// An AppProject, one Application per environment and an app-of-apps root.
    Argocd,
    /// compose.yaml for running the app locally.
    Compose,
    /// Per environment: ServiceMonitors, a PrometheusRule (alerts, SLO burn rates), a Grafana
    /// dashboard ConfigMap (docs/operate.md#monitoring).
    Monitoring,
}

#[cfg(feature = "full")]
/// Where Argo CD Applications point.
#[derive(Debug, Args)]
pub(crate) struct ArgoCdArgs {
    /// What Argo CD Applications deploy: the Kustomize overlays or the Helm chart with its values files.
    #[arg(long = "argocd-source", value_enum, default_value_t = ArgoCdSource::Kustomize)]
    pub argocd_source: ArgoCdSource,
    /// Git repository Argo CD pulls the generated files from.
    #[arg(long = "argocd-repo", value_name = "URL")]
    pub argocd_repo: Option<String>,
    /// Git revision Argo CD tracks.
    #[arg(long = "argocd-revision", default_value = "HEAD")]
    pub argocd_revision: String,
    /// Path in that repository of the build output (the directory holding kustomize/, helm/ and
    /// argocd/; default: the output directory relative to the enclosing git checkout; required
    /// when the output directory is outside the checkout that holds the app).
    #[arg(long = "argocd-path", value_name = "PATH")]
    pub argocd_path: Option<String>,
}

#[cfg(feature = "full")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum ArgoCdSource {
    #[default]
    Kustomize,
    Helm,
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// Shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(feature = "full")]
/// Format of a manifest berth prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum ManifestFormat {
    #[default]
    Yaml,
    Json,
}

#[cfg(feature = "full")]
/// Where a sealed value may be unsealed (the scope is part of the encryption).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum SealScope {
    /// Only as a Secret of this name in this namespace.
    #[default]
    Strict,
    /// As a Secret of any name in this namespace.
    NamespaceWide,
    /// As a Secret of any name in any namespace.
    ClusterWide,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  berth seal --cert cert.pem -n prod --name db password=@db-password.txt token=env:API_TOKEN
  kubectl create secret generic db --from-file=password=pw.txt --dry-run=client -o yaml | berth seal -n prod
  printf %s \"$TOKEN\" | berth seal --raw -n prod --name db -
  berth seal --fetch-cert > cert.pem")]
#[cfg(feature = "full")]
pub(crate) struct SealArgs {
    /// Values to seal: KEY=@FILE, KEY=env:VARIABLE or KEY=- (standard input; @FILE alone uses the
    /// file name as key). Literal values are refused. With none, a Secret manifest is read from -f
    /// or standard input and every key in it is sealed.
    #[arg(value_name = "KEY=SOURCE")]
    pub values: Vec<String>,
    /// The controller's certificate: a file or an http(s):// URL. Default: fetched from the
    /// controller in the cluster.
    #[arg(long, env = "SEALED_SECRETS_CERT", value_name = "FILE|URL")]
    pub cert: Option<String>,
    /// Namespace of the Secret (required unless --scope cluster-wide or the manifest has one).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Name of the Secret (required unless the manifest has one, or --raw with --scope cluster-wide).
    #[arg(long)]
    pub name: Option<String>,
    /// Where the values may be unsealed.
    #[arg(long, value_enum, default_value_t = SealScope::Strict)]
    pub scope: SealScope,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ManifestFormat::Yaml)]
    pub output: ManifestFormat,
    /// A plain Secret manifest to seal (`-`: standard input).
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub filename: Option<PathBuf>,
    /// Seal one value and print only its base64 ciphertext (like `kubeseal --raw`).
    #[arg(long)]
    pub raw: bool,
    /// Print the certificate in use (from --cert or the cluster) and exit.
    #[arg(long, conflicts_with_all = ["values", "filename", "raw"])]
    pub fetch_cert: bool,
    /// Secret type of the generated Secret (default: the manifest's, else Opaque).
    #[arg(long = "type", value_name = "TYPE")]
    pub type_: Option<String>,
    /// Kubeconfig to reach the cluster (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use.
    #[arg(long)]
    pub context: Option<String>,
    /// Name of the Sealed Secrets controller's service.
    #[arg(long, default_value = "sealed-secrets-controller")]
    pub controller_name: String,
    /// Namespace of the Sealed Secrets controller.
    #[arg(long, default_value = "kube-system")]
    pub controller_namespace: String,
}

#[derive(Debug, Args)]
#[command(after_help = "Example:
  kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > keys.yaml
  berth unseal --private-key keys.yaml -f sealed.yaml")]
#[cfg(feature = "full")]
pub(crate) struct UnsealArgs {
    /// Private keys: PEM files (PKCS#1 or PKCS#8) or the controller's key Secrets as YAML/JSON (a
    /// List works). Repeat or separate with commas; every key is tried for every value.
    #[arg(
        long = "private-key",
        required = true,
        value_delimiter = ',',
        value_name = "KEY.pem|SECRETS.yaml"
    )]
    pub private_keys: Vec<PathBuf>,
    /// The SealedSecret to decrypt (default and `-`: standard input).
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub filename: Option<PathBuf>,
    /// Output format of the Secret.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ManifestFormat::Yaml)]
    pub output: ManifestFormat,
}

#[cfg(feature = "full")]
/// Output format of `berth check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum CheckFormat {
    /// Grouped by object, coloured on a terminal, with fix hints and a summary line.
    #[default]
    Human,
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// JUnit XML (CI test reports).
    Junit,
    /// Only with --list-rules: the rules table of docs/rules.md.
    Markdown,
}

#[cfg(feature = "full")]
/// Lowest severity that makes `berth check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum FailOn {
    #[default]
    Error,
    Warning,
    Info,
    Never,
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Files, directories (searched recursively for .yaml/.yml/.json), `-` for stdin, or an app
    /// directory holding berth.yaml (every environment is rendered and checked).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// More files or directories to check, as with kubectl (repeatable).
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filename: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = CheckFormat::Human)]
    pub output: CheckFormat,
    /// Exit 1 when a finding reaches this severity.
    #[arg(long = "fail-on", value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Kubernetes minor to validate against (bundled: 1.30 to 1.37; default: the newest).
    #[arg(long = "kube-version", value_name = "1.3x")]
    pub kube_version: Option<String>,
    /// CustomResourceDefinition file or directory to validate custom resources against (repeatable).
    #[arg(long = "crd", value_name = "FILE|DIR")]
    pub crd: Vec<PathBuf>,
    /// Rule config (severities, disabled rules); default: ./.berth-check.yaml when present.
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Production profile: replicas and digest rules at their production severity
    /// (implied for prod-tier environments of an app).
    #[arg(long)]
    pub prod: bool,
    /// List the rules (with -o markdown: the table of docs/rules.md; -o json) and exit.
    #[arg(long = "list-rules")]
    pub list_rules: bool,
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  berth explain pdb-blocks-drain                     # a `berth check` rule
  berth explain examples/todo --env prod deployment/backend spec.template.spec.containers[0].resources.limits.cpu
  berth explain examples/todo --env prod deployment/backend          # every field with its origin
  berth explain examples/todo --env prod hpa/frontend spec.behavior  # a subtree
  berth explain examples/todo --env prod deploy/backend 'metadata.labels[\"app.kubernetes.io/name\"]'
  berth explain examples/todo --env prod deployment/backend spec.replicas -o json | jq .fields[0].origin")]
pub(crate) struct ExplainArgs {
    /// A `berth check` rule id (`pdb-blocks-drain`; `berth check --list-rules` lists them), or an
    /// app directory (or berth.yaml) followed by a rendered object.
    #[arg(value_name = "RULE|APP")]
    pub rule: String,
    /// The rendered object, `KIND/NAME` as kubectl names it (`deployment/backend`,
    /// `deploy/backend`, `hpa/frontend`, `cm/backend-env`).
    #[arg(value_name = "KIND/NAME")]
    pub object: Option<String>,
    /// A field of it, kubectl style: `spec.template.spec.containers[0].image`,
    /// `metadata.labels["app.kubernetes.io/name"]`, `containers[backend]` for the container
    /// named `backend`, or a JSON pointer (`/spec/replicas`). Without it: every field.
    #[arg(value_name = "FIELD")]
    pub field: Option<String>,
    /// Environment (required when the spec has several).
    #[arg(short = 'e', long = "env")]
    pub env: Option<String>,
    /// Namespace of the object, when several namespaces hold one by that name.
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ProvenanceFormat::Text)]
    pub output: ProvenanceFormat,
}

#[cfg(feature = "full")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum ProvenanceFormat {
    /// For people.
    #[default]
    Text,
    /// For scripts.
    Json,
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  berth diff-env examples/todo dev prod
  berth diff-env examples/todo dev prod -o json | jq '.objects[] | select(.kind == \"Deployment\")'")]
pub(crate) struct DiffEnvArgs {
    /// App directory (holding berth.yaml) or the spec file itself.
    pub app: PathBuf,
    /// The environment to compare from.
    #[arg(value_name = "ENV")]
    pub from: String,
    /// The environment to compare to.
    #[arg(value_name = "ENV")]
    pub to: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ProvenanceFormat::Text)]
    pub output: ProvenanceFormat,
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  berth capacity examples/todo
  berth capacity examples/todo --env prod --nodes 3x4cpu16Gi
  berth capacity examples/todo --env prod -o json | jq .environments[0].max
  berth capacity examples/todo --env prod --quota     # the ResourceQuota and LimitRange (`quota: true` renders them)")]
pub(crate) struct CapacityArgs {
    /// App directory (holding berth.yaml) or the spec file itself.
    #[arg(default_value = ".")]
    pub app: PathBuf,
    /// Only this environment (default: every environment).
    #[arg(short = 'e', long = "env")]
    pub env: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Check the environment fits these nodes: COUNTxCPUcpuMEMORY (allocatable), several groups
    /// comma-separated, e.g. `3x4cpu16Gi` or `2x8cpu32Gi,1x16cpu64Gi`. Exits 1 when it does not
    /// fit at its maximum.
    #[arg(long, value_name = "NODES")]
    pub nodes: Option<String>,
    /// Print the ResourceQuota and LimitRange derived from the maximum (as YAML, or JSON with -o json).
    #[arg(long, conflicts_with = "nodes")]
    pub quota: bool,
}

#[cfg(feature = "full")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum GraphFormat {
    /// A self-contained SVG picture.
    #[default]
    Svg,
    /// A Mermaid flowchart (Markdown renders it).
    Mermaid,
    /// Graphviz dot.
    Dot,
    /// Nodes and edges for scripts.
    Json,
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  berth graph examples/todo --env prod > todo-prod.svg
  berth graph examples/todo --env prod -o mermaid
  berth graph examples/todo --env prod -o dot | dot -Tpng > todo.png
  berth graph examples/todo --env prod -o json | jq '.edges[] | select(.to == \"postgres\")'")]
pub(crate) struct GraphArgs {
    /// App directory (holding berth.yaml) or the spec file itself.
    #[arg(default_value = ".")]
    pub app: PathBuf,
    /// Environment (required when the spec has several).
    #[arg(short = 'e', long = "env")]
    pub env: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = GraphFormat::Svg)]
    pub output: GraphFormat,
}

#[cfg(feature = "full")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum RunbookFormat {
    /// Markdown (what `berth build` writes to `out/runbook/ENV.md`).
    #[default]
    Markdown,
    /// The sections, texts and commands (argv) for scripts.
    Json,
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  berth runbook examples/todo --env prod > RUNBOOK.md
  berth runbook examples/todo --env prod -o json | jq -r '.sections[] | select(.id == \"roll-back-with-helm\") | .blocks[].commands[]?.pipeline[0] | join(\" \")'")]
pub(crate) struct RunbookArgs {
    /// App directory (holding berth.yaml) or the spec file itself.
    #[arg(default_value = ".")]
    pub app: PathBuf,
    /// Environment (required when the spec has several).
    #[arg(short = 'e', long = "env")]
    pub env: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = RunbookFormat::Markdown)]
    pub output: RunbookFormat,
    /// Where the commands expect `berth build`'s output (default: APP/out).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// `berth config-sync`: every flag can also be set by its `BERTH_SYNC_*` environment variable.
/// Durations take `500ms`, `30s`, `5m`, `1h`. The defaults are `berth_sync::config::defaults`
/// (the daemon's own `Config::default` reads the same).
#[derive(Debug, Args)]
pub(crate) struct ConfigSyncArgs {
    /// Where config comes from: s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, az://CONTAINER/PREFIX or
    /// file:///DIR. S3 credentials and endpoint come from the standard AWS_* variables (IRSA, Pod
    /// Identity, AWS_ENDPOINT for S3-compatible stores).
    #[arg(long, env = "BERTH_SYNC_SOURCE", value_name = "URL")]
    pub source: String,
    /// Directory shared with the app (an emptyDir); the app reads ROOT/current.
    #[arg(
        long,
        env = "BERTH_SYNC_ROOT",
        default_value = D::ROOT,
        value_name = "DIR"
    )]
    pub root: PathBuf,
    /// Command that must exit 0 for a version to be accepted, run by `sh -c`; `{dir}` is replaced by
    /// the staged version's directory (also in $CONFIG_DIR; the version hash is in $CONFIG_VERSION).
    #[arg(long, env = "BERTH_SYNC_VALIDATE_CMD", value_name = "CMD")]
    pub validate_cmd: Option<String>,
    /// Time limit for --validate-cmd.
    #[arg(long, env = "BERTH_SYNC_VALIDATE_TIMEOUT", default_value = D::VALIDATE_TIMEOUT, value_parser = berth_sync::parse_duration, value_name = "DURATION")]
    pub validate_timeout: std::time::Duration,
    /// JSON Schema (JSON or YAML) every .json/.yaml/.yml file of a version must satisfy.
    #[arg(long, env = "BERTH_SYNC_SCHEMA", value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// How to tell the app: signal:SIG:PROCESS (by name; needs shareProcessNamespace),
    /// signal:SIG:/path/to/pidfile, signal:SIG alone (the main process of each other container
    /// in the pod; needs shareProcessNamespace), http:METHOD:URL, exec:COMMAND, or none.
    #[arg(
        long,
        env = "BERTH_SYNC_RELOAD",
        default_value = D::RELOAD,
        value_name = "SPEC"
    )]
    pub reload: String,
    /// Time limit for one reload attempt (HTTP call or command).
    #[arg(long, env = "BERTH_SYNC_RELOAD_TIMEOUT", default_value = D::RELOAD_TIMEOUT, value_parser = berth_sync::parse_duration, value_name = "DURATION")]
    pub reload_timeout: std::time::Duration,
    /// Extra reload attempts before the version counts as failed (and is rolled back).
    #[arg(long, env = "BERTH_SYNC_RELOAD_RETRIES", default_value_t = D::RELOAD_RETRIES)]
    pub reload_retries: u32,
    /// Least time between two reloads (rate limit).
    #[arg(long, env = "BERTH_SYNC_MIN_RELOAD_INTERVAL", default_value = D::MIN_RELOAD_INTERVAL, value_parser = berth_sync::parse_duration, value_name = "DURATION")]
    pub min_reload_interval: std::time::Duration,
    /// URL that must answer 2xx --healthy-count times in a row after a reload.
    #[arg(long, env = "BERTH_SYNC_HEALTH_URL", value_name = "URL")]
    pub health_url: Option<String>,
    /// URL whose response body must contain the new version's hash (proof the app loaded it).
    #[arg(long, env = "BERTH_SYNC_CONFIG_VERSION_URL", value_name = "URL")]
    pub config_version_url: Option<String>,
    /// Consecutive passing checks needed to commit a version.
    #[arg(long, env = "BERTH_SYNC_HEALTHY_COUNT", default_value_t = D::HEALTHY_COUNT)]
    pub healthy_count: u32,
    /// Reload and verify the very first version too (by default it commits right after the swap:
    /// in a pod the app starts only once the native sidecar is ready).
    #[arg(long, env = "BERTH_SYNC_VERIFY_INITIAL")]
    pub verify_initial: bool,
    /// Time limit for verification; past it the version is rolled back.
    #[arg(long, env = "BERTH_SYNC_VERIFY_TIMEOUT", default_value = D::VERIFY_TIMEOUT, value_parser = berth_sync::parse_duration, value_name = "DURATION")]
    pub verify_timeout: std::time::Duration,
    /// Pause between verification checks.
    #[arg(long, env = "BERTH_SYNC_VERIFY_INTERVAL", default_value = D::VERIFY_INTERVAL, value_parser = berth_sync::parse_duration, value_name = "DURATION")]
    pub verify_interval: std::time::Duration,
    /// How often to poll the source (±10 % jitter). Folders are also watched.
    #[arg(long, env = "BERTH_SYNC_POLL_INTERVAL", default_value = D::POLL_INTERVAL, value_parser = berth_sync::parse_duration, value_name = "DURATION")]
    pub poll_interval: std::time::Duration,
    /// Longest pause between polls while the source fails (exponential backoff with jitter).
    #[arg(long, env = "BERTH_SYNC_MAX_BACKOFF", default_value = D::MAX_BACKOFF, value_parser = berth_sync::parse_duration, value_name = "DURATION")]
    pub max_backoff: std::time::Duration,
    /// Download and hash everything this often even when the listing looks unchanged.
    #[arg(long, env = "BERTH_SYNC_RESYNC_INTERVAL", default_value = D::RESYNC_INTERVAL, value_parser = berth_sync::parse_duration, value_name = "DURATION")]
    pub resync_interval: std::time::Duration,
    /// Quiet time after folder events before polling.
    #[arg(long, env = "BERTH_SYNC_DEBOUNCE", default_value = D::DEBOUNCE, value_parser = berth_sync::parse_duration, value_name = "DURATION")]
    pub debounce: std::time::Duration,
    /// /healthz fails when no poll has succeeded for this long.
    #[arg(long, env = "BERTH_SYNC_STALE_AFTER", default_value = D::STALE_AFTER, value_parser = berth_sync::parse_duration, value_name = "DURATION")]
    pub stale_after: std::time::Duration,
    /// Time limit for one request to the object store.
    #[arg(long, env = "BERTH_SYNC_REQUEST_TIMEOUT", default_value = D::REQUEST_TIMEOUT, value_parser = berth_sync::parse_duration, value_name = "DURATION")]
    pub request_timeout: std::time::Duration,
    /// Address of /healthz, /readyz, /status and /metrics.
    #[arg(
        long,
        env = "BERTH_SYNC_LISTEN",
        default_value = D::LISTEN,
        value_name = "ADDR"
    )]
    pub listen: std::net::SocketAddr,
    /// Also maintain the kubelet's ROOT/..data link and ROOT/NAME -> ..data/NAME links, for apps
    /// that already watch a ConfigMap volume.
    #[arg(long, env = "BERTH_SYNC_KUBELET_COMPATIBLE")]
    pub kubelet_compatible: bool,
    /// `_manifest.json` (written last by the publisher) makes multi-file publishes atomic: auto uses
    /// it when present, required waits for it, off syncs it as a plain file.
    #[arg(long, env = "BERTH_SYNC_MANIFEST", default_value = D::MANIFEST, value_parser = ["auto", "required", "off"])]
    pub manifest: String,
    /// Version directories to keep (the last good one is always kept).
    #[arg(long, env = "BERTH_SYNC_KEEP_VERSIONS", default_value_t = D::KEEP_VERSIONS)]
    pub keep_versions: usize,
    /// Largest file accepted, in bytes.
    #[arg(long, env = "BERTH_SYNC_MAX_FILE_BYTES", default_value_t = D::MAX_FILE_BYTES)]
    pub max_file_bytes: u64,
    /// Largest version accepted (all files), in bytes.
    #[arg(long, env = "BERTH_SYNC_MAX_TOTAL_BYTES", default_value_t = D::MAX_TOTAL_BYTES)]
    pub max_total_bytes: u64,
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  berth import                                   # compose.yaml (+ compose.override.yaml) here → ./berth.yaml
  berth import compose.yaml -f compose.prod.yaml --env-file .env.prod --profile workers
  berth import ./shop -o json > report.json      # the report as JSON; berth.yaml written in ./shop
  berth import compose.yaml -o deploy/berth.yaml --force")]
pub(crate) struct ImportArgs {
    /// A compose file, or a directory where compose.yaml / docker-compose.yml (and the override)
    /// are found the way `docker compose` finds them (default: the current directory).
    #[arg(value_name = "COMPOSE_FILE|DIR")]
    pub path: Option<PathBuf>,
    /// More compose files, merged in order after PATH (as `docker compose -f`).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Variables for interpolation instead of PROJECT_DIR/.env (repeatable, as `docker compose`).
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
    /// Profiles to enable (default: $COMPOSE_PROFILES).
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Where relative paths and .env are resolved (default: the first compose file's directory).
    #[arg(long = "project-directory", value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// `json` or `table` for the report format; any other value is where berth.yaml is written
    /// (default: PROJECT_DIR/berth.yaml).
    #[arg(short = 'o', long = "output", value_name = "json|table|FILE")]
    pub output: Option<String>,
    /// Overwrite an existing berth.yaml (and config files it copies).
    #[arg(long)]
    pub force: bool,
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  berth init                                     # a commented template in ./berth.yaml
  berth init shop --service web=ghcr.io/acme/web:1.0.0:8080 --service worker=ghcr.io/acme/worker:1.0.0")]
pub(crate) struct InitArgs {
    /// Directory to write berth.yaml into.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// A service as NAME=IMAGE:PORT (or NAME=IMAGE for a worker); repeatable.
    #[arg(long = "service", value_name = "NAME=IMAGE[:PORT]")]
    pub services: Vec<String>,
    /// The app name (default: the directory's name).
    #[arg(long)]
    pub app: Option<String>,
    /// Overwrite an existing berth.yaml.
    #[arg(long)]
    pub force: bool,
}

#[cfg(feature = "full")]
#[derive(Debug, Subcommand)]
pub(crate) enum SecretCommand {
    /// Seal one value for ENV's SERVICE and write it to its sealed file (environments with
    /// `secrets: { mode: sealed }`), replacing the old one. The value comes from standard input
    /// (exactly, including a trailing newline), --from-file or --from-env; the other values are
    /// not read.
    Set(SecretSetArgs),
    /// List the secrets of ENV: per service, each key and whether its value exists. Exits 1 when
    /// one is missing.
    List(SecretListArgs),
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
pub(crate) struct SecretSetArgs {
    /// Environment (one of the spec's `environments`).
    pub env: String,
    /// Service whose secret it is.
    pub service: String,
    /// Secret name (one of the service's `secrets`).
    pub key: String,
    /// App directory (holding berth.yaml) or the spec file itself.
    #[arg(
        short = 'f',
        long = "filename",
        default_value = ".",
        value_name = "APP"
    )]
    pub app: PathBuf,
    /// Read the value from this file (its bytes, exactly).
    #[arg(long, value_name = "FILE", conflicts_with = "from_env")]
    pub from_file: Option<PathBuf>,
    /// Read the value from this environment variable.
    #[arg(long, value_name = "VARIABLE")]
    pub from_env: Option<String>,
}

#[cfg(feature = "full")]
#[derive(Debug, Args)]
pub(crate) struct SecretListArgs {
    /// Environment (one of the spec's `environments`).
    pub env: String,
    /// App directory (holding berth.yaml) or the spec file itself.
    #[arg(
        short = 'f',
        long = "filename",
        default_value = ".",
        value_name = "APP"
    )]
    pub app: PathBuf,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}
