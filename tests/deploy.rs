//! deploy/ without a cluster: the Kubernetes manifests against the Kubernetes schema and the
//! rules the README promises for them; the container's install script against this Debian 12
//! machine and the binary; the Slurm script's options and refusals (dry runs). The Slurm script
//! on a real cluster is tests/slurm.rs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const MANIFESTS: [&str; 3] = [
    "deploy/kubernetes-volume.yaml",
    "deploy/kubernetes-indexed-job.yaml",
    "deploy/kubernetes-concat-job.yaml",
];

#[test]
fn kubernetes_manifests_match_the_schema() {
    // 1.29: the first release with per-index retries on by default.
    for version in ["1.29.0", "1.37.0"] {
        let out = Command::new("python3")
            .args([
                "-m",
                "kubernetes_validate",
                "--strict",
                "--quiet",
                "-k",
                version,
            ])
            .args(MANIFESTS.map(repo))
            .output()
            .expect("kubernetes-validate (pip install kubernetes-validate; scripts/setup.sh test)");
        assert!(out.status.success(), "Kubernetes {version}: {}", text(&out));
    }
}

/// Checks what the schema cannot: the rules the README and the manifests' comments promise.
const RULES: &str = r#"
import sys, yaml
volume, shards, concat = (list(yaml.safe_load_all(open(p))) for p in sys.argv[1:4])
assert [d["kind"] for d in volume] == ["PersistentVolumeClaim", "Pod"], volume
assert "ReadWriteMany" in volume[0]["spec"]["accessModes"]
# Applying the shard file creates the shard Job alone; concat comes later, from its own file.
assert [(d["kind"], d["metadata"]["name"]) for d in shards] == [("Job", "mandelfly-shards")]
assert [(d["kind"], d["metadata"]["name"]) for d in concat] == [("Job", "mandelfly-concat")]
for job, container in ((shards[0], "render"), (concat[0], "concat")):
    spec = job["spec"]
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    rules = spec["podFailurePolicy"]["rules"]
    bad_input = [r for r in rules if r.get("onExitCodes", {}).get("values") == [2]]
    assert bad_input and bad_input[0]["action"] == "FailJob", rules
    assert bad_input[0]["onExitCodes"]["containerName"] == container
    c = pod["containers"][0]
    assert c["name"] == container
    assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]}
    assert mounts == {"work": "/work"} and claims == {"work": volume[0]["metadata"]["name"]}
spec = shards[0]["spec"]
assert spec["completionMode"] == "Indexed"
assert spec["backoffLimitPerIndex"] >= 1 and spec["maxFailedIndexes"] >= 1
assert "backoffLimit" not in spec
c = spec["template"]["spec"]["containers"][0]
assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
env = {e["name"]: e["value"] for e in c["env"]}
assert int(env["SHARDS"]) == spec["completions"], (env, spec["completions"])
script = " ".join(c["args"])
assert '--shard "$JOB_COMPLETION_INDEX/$SHARDS"' in script and "-o /work/segments/" in script
assert "/work/flight.toml" in script
cmd = concat[0]["spec"]["template"]["spec"]["containers"][0]["command"]
assert cmd[1:3] == ["concat", "/work/segments/"] and cmd[-1] == "/work/flight.mp4", cmd
print("ok")
"#;

#[test]
fn kubernetes_manifests_keep_their_promises() {
    let out = Command::new("python3")
        .args(["-c", RULES])
        .args(MANIFESTS.map(repo))
        .output()
        .expect("python3 with PyYAML (kubernetes-validate brings it)");
    assert!(out.status.success(), "{}", text(&out));
    // The documented steps name these files and the files pod.
    let steps = std::fs::read_to_string(repo("deploy/kubernetes-indexed-job.yaml")).unwrap();
    for step in [
        "kubectl apply -f deploy/kubernetes-volume.yaml",
        "kubectl cp flight.toml mandelfly-files:/work/flight.toml",
        "kubectl apply -f deploy/kubernetes-indexed-job.yaml",
        "kubectl apply -f deploy/kubernetes-concat-job.yaml",
        "kubectl cp mandelfly-files:/work/flight.mp4 flight.mp4",
    ] {
        assert!(steps.contains(step), "missing step: {step}");
    }
    assert!(!steps.contains("--for=condition=complete job"));
}

#[test]
fn the_container_install_script_covers_what_the_binary_loads() {
    let script = repo("deploy/install-runtime.sh");
    let out = Command::new(&script)
        .args(["--check", env!("CARGO_BIN_EXE_mandelfly")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // The install itself, run here: nothing to install after scripts/setup.sh, and NVIDIA's
    // driver description (written to a private file here, not /etc) is valid JSON; twice, to
    // show it is idempotent.
    let tmp = tempfile::tempdir().unwrap();
    let icd = tmp.path().join("nvidia_icd.json");
    for _ in 0..2 {
        let out = Command::new(&script)
            .env("MANDELFLY_NVIDIA_ICD", &icd)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        assert!(!text(&out).contains("apt-get"), "{}", text(&out));
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&icd).unwrap()).unwrap();
    assert_eq!(json["ICD"]["library_path"], "libGLX_nvidia.so.0", "{json}");
    // A program needing a library the image would lack is caught (Xvfb: the window tests').
    if Path::new("/usr/bin/Xvfb").exists() {
        let out = Command::new(&script)
            .args(["--check", "/usr/bin/Xvfb"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            text(&out).contains("which the image does not install"),
            "{}",
            text(&out)
        );
    }
    // The Dockerfile installs with that script and asks NVIDIA's runtime for the Vulkan driver.
    let docker = std::fs::read_to_string(repo("Dockerfile")).unwrap();
    assert!(docker.contains("FROM debian:12-slim"), "{docker}");
    assert!(docker.contains("RUN /usr/local/share/mandelfly/install-runtime.sh "));
    assert!(docker.contains("COPY deploy/install-runtime.sh "));
    let caps = docker
        .lines()
        .find_map(|l| l.trim().strip_prefix("NVIDIA_DRIVER_CAPABILITIES="))
        .expect("NVIDIA_DRIVER_CAPABILITIES");
    assert!(caps.split(',').any(|c| c.trim() == "graphics"), "{caps}");
    assert!(docker.contains("cargo build --release --locked"));
}

fn slurm_dry_run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(repo("deploy/slurm-job-array.sh"));
    c.arg("--dry-run").args(args);
    for var in [
        "MANDELFLY_GRES",
        "MANDELFLY_CPUS",
        "MANDELFLY_THROTTLE",
        "MANDELFLY_ADAPTER",
        "RENDER_ARGS",
    ] {
        c.env_remove(var);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn the_slurm_script_takes_options_and_refuses_bad_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("flight");
    let path = repo("paths/weave.toml");
    let (path, dir_s) = (path.to_str().unwrap(), dir.to_str().unwrap());

    // Defaults: nothing a plain node lacks (no GPU request, one CPU), mp4 for h264.
    let out = slurm_dry_run(&[path, dir_s], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("--array=0-7 "), "{t}");
    assert!(t.contains("--cpus-per-task=1 "), "{t}");
    assert!(!t.contains("--gres") && !t.contains("--time"), "{t}");
    assert!(t.contains("--kill-on-invalid-dep=yes"), "{t}");
    assert!(t.contains("shards-%A_%a.log --open-mode=append"), "{t}");
    assert!(t.contains("/flight.mp4"), "{t}");
    assert!(!dir.exists(), "a dry run creates nothing");

    // Options, and the environment where no option is given; the container follows the codec.
    let out = slurm_dry_run(
        &[
            "--gres",
            "gpu:1",
            "--throttle",
            "4",
            "--adapter",
            "NVIDIA",
            path,
            dir_s,
            "64",
        ],
        &[("MANDELFLY_CPUS", "3"), ("RENDER_ARGS", "--codec ffv1")],
    );
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    for want in [
        "--array=0-63%4 ",
        "--gres=gpu:1 ",
        "--cpus-per-task=3 ",
        "--adapter\\ NVIDIA",
        "/flight.mkv",
    ] {
        assert!(t.contains(want), "{want}: {t}");
    }
    let out = slurm_dry_run(&[path, dir_s, "2"], &[("RENDER_ARGS", "--codec=prores")]);
    assert!(text(&out).contains("/flight.mov"), "{}", text(&out));

    // Bad input: exit 2, a message, nothing submitted or created.
    for (args, env, says) in [
        (vec![path, dir_s, "0"], vec![], "SHARDS must be"),
        (vec!["--cpus", "x", path, dir_s], vec![], "--cpus must be"),
        (
            vec!["--bogus", path, dir_s],
            vec![],
            "unknown option --bogus",
        ),
        (
            vec!["/nonexistent.toml", dir_s],
            vec![],
            "no such path file",
        ),
        (
            vec![path, dir_s],
            vec![("RENDER_ARGS", "--codec xyz")],
            "unknown codec 'xyz'",
        ),
    ] {
        let out = slurm_dry_run(&args, &env);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(says), "{says}: {}", text(&out));
        assert!(!text(&out).contains("sbatch --"), "{}", text(&out));
    }
    assert!(!dir.exists());

    // --resume submits only the shards without a manifest.
    let segments = dir.join("segments");
    std::fs::create_dir_all(&segments).unwrap();
    for i in [0, 1, 2, 5, 7] {
        std::fs::write(segments.join(format!("shard-{i:04}-of-0008.json")), "{}").unwrap();
    }
    let out = slurm_dry_run(&["--resume", path, dir_s], &[]);
    assert!(text(&out).contains("--array=3-4\\,6 "), "{}", text(&out));
    assert!(text(&out).contains("3 of 8 shards"), "{}", text(&out));
    for i in [3, 4, 6] {
        std::fs::write(segments.join(format!("shard-{i:04}-of-0008.json")), "{}").unwrap();
    }
    let out = slurm_dry_run(&["--resume", path, dir_s], &[]);
    let t = text(&out);
    assert!(t.contains("every shard has a manifest"), "{t}");
    assert!(!t.contains("--dependency"), "{t}");
}

#[cfg(feature = "video")]
/// The Jobs' containers as JSON: `[[command..., args...], env]` for the shard and concat Jobs.
fn containers() -> serde_json::Value {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, json, yaml\n\
             out = []\n\
             for p in sys.argv[1:]:\n\
             \x20   c = next(yaml.safe_load_all(open(p)))['spec']['template']['spec']['containers'][0]\n\
             \x20   out.append([c['command'] + c.get('args', []), {e['name']: e['value'] for e in c.get('env', [])}])\n\
             print(json.dumps(out))",
        ])
        .args([MANIFESTS[1], MANIFESTS[2]].map(repo))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[cfg(feature = "video")]
#[test]
fn the_kubernetes_containers_render_and_join_as_written() {
    if common::gpu().is_none() {
        return;
    }
    // The containers' commands as written, with /work a local folder and the flight scaled down
    // (size, frame rate, shard count) so that it runs here.
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::copy(repo("paths/weave.toml"), work.join("flight.toml")).unwrap();
    let local = |s: &str| {
        s.replace("/work/", &format!("{}/", work.display()))
            .replace(
                "--size 3840x2160 --samples 16 --shutter 0.5",
                "--size 64x36 --fps 1",
            )
    };
    let jobs = containers();
    let (shard_cmd, shard_env) = (&jobs[0][0], &jobs[0][1]);
    assert_eq!(shard_cmd[0], "/bin/sh");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mandelfly")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    assert!(shard_env["MANDELFLY_ADAPTER"].is_string());
    for index in 0..4 {
        let args: Vec<String> = shard_cmd.as_array().unwrap()[1..]
            .iter()
            .map(|a| local(a.as_str().unwrap()))
            .collect();
        let out = Command::new("/bin/sh")
            .args(&args)
            .env("PATH", &path)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("SHARDS", "4")
            .env_remove("MANDELFLY_ADAPTER")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let concat: Vec<String> = jobs[1][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| local(a.as_str().unwrap()))
        .collect();
    let out = Command::new(&concat[0])
        .args(&concat[1..])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let (frames, _) = common::decode(&work.join("flight.mp4"));
    assert_eq!(frames.len(), 16);
}
