//! `deploy/slurm-job-array.sh`, unchanged, on a real single-node Slurm cluster started here
//! (munged, slurmctld and slurmd with private configuration, state and ports): a shard that
//! fails cancels the concat job instead of leaving it waiting; `--resume` submits only that
//! shard and a fresh concat; the joined video equals the flight rendered in one go.
//!
//! Needs root and Debian's slurm-wlm and munge (`scripts/setup.sh test` installs them); fails
//! without them unless MANDELFLY_SKIP_SLURM_TESTS=1.
#![cfg(feature = "video")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SKIP_ENV: &str = "MANDELFLY_SKIP_SLURM_TESTS";

/// The daemons of a private cluster; dropping it cancels every job and stops them by PID.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    daemons: Vec<(&'static str, Child)>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        for d in ["munge", "state", "spool", "log"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let munge = dir.join("munge");
        let key = munge.join("munge.key");
        let mut bytes = vec![0u8; 1024];
        let mut seq = common::Sequence::new(std::process::id() as u64 + 7);
        for b in &mut bytes {
            *b = (seq.next_f64() * 256.0) as u8;
        }
        std::fs::write(&key, &bytes).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&munge, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let socket = munge.join("socket");
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap_or_else(|_| "localhost".into());
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let d = dir.display();
        let conf = dir.join("slurm.conf");
        std::fs::write(
            &conf,
            format!(
                "ClusterName=mandelfly-test\n\
                 SlurmctldHost=localhost(127.0.0.1)\n\
                 SlurmctldPort={}\n\
                 SlurmdPort={}\n\
                 SlurmUser=root\n\
                 SlurmdUser=root\n\
                 AuthType=auth/munge\n\
                 AuthInfo=socket={}\n\
                 CredType=cred/munge\n\
                 StateSaveLocation={d}/state\n\
                 SlurmdSpoolDir={d}/spool\n\
                 SlurmctldPidFile={d}/slurmctld.pid\n\
                 SlurmdPidFile={d}/slurmd.pid\n\
                 SlurmctldLogFile={d}/log/slurmctld.log\n\
                 SlurmdLogFile={d}/log/slurmd.log\n\
                 ProctrackType=proctrack/linuxproc\n\
                 TaskPlugin=task/none\n\
                 JobAcctGatherType=jobacct_gather/none\n\
                 AccountingStorageType=accounting_storage/none\n\
                 SelectType=select/cons_tres\n\
                 SelectTypeParameters=CR_CPU\n\
                 MpiDefault=none\n\
                 ReturnToService=2\n\
                 SchedulerParameters=sched_interval=1\n\
                 PlugStackConfig=/dev/null\n\
                 NodeName=localnode NodeAddr=127.0.0.1 NodeHostname={} CPUs={cpus} State=UNKNOWN\n\
                 PartitionName=debug Nodes=localnode Default=YES MaxTime=INFINITE State=UP\n",
                free_port(),
                free_port(),
                socket.display(),
                hostname.trim(),
            ),
        )
        .unwrap();
        let mut cluster = Cluster {
            dir: dir.to_path_buf(),
            conf,
            daemons: Vec::new(),
        };
        let log = |name: &str| std::fs::File::create(dir.join("log").join(name)).unwrap();
        let spawn = |cluster: &mut Cluster, name: &'static str, program: &str, args: &[&str]| {
            let child = Command::new(program)
                .args(args)
                .env("SLURM_CONF", &cluster.conf)
                .stdin(Stdio::null())
                .stdout(log(&format!("{name}.out")))
                .stderr(log(&format!("{name}.out")))
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
            cluster.daemons.push((name, child));
        };
        let m = munge.display().to_string();
        spawn(
            &mut cluster,
            "munged",
            "/usr/sbin/munged",
            &[
                "--foreground",
                "--force",
                &format!("--socket={}", socket.display()),
                &format!("--key-file={}", key.display()),
                &format!("--pid-file={m}/pid"),
                &format!("--log-file={m}/log"),
                &format!("--seed-file={m}/seed"),
            ],
        );
        cluster.wait_for("munged's socket", || socket.exists());
        spawn(
            &mut cluster,
            "slurmctld",
            "/usr/sbin/slurmctld",
            &["-D", "-i"],
        );
        spawn(
            &mut cluster,
            "slurmd",
            "/usr/sbin/slurmd",
            &["-D", "-N", "localnode"],
        );
        cluster.wait_for("the node to be idle", || {
            let out = cluster.command("sinfo", &["-h", "-o", "%T"]);
            String::from_utf8_lossy(&out.stdout).trim() == "idle"
        });
        cluster
    }

    /// A Slurm client command against this cluster.
    fn command(&self, program: &str, args: &[&str]) -> Output {
        Command::new(program)
            .args(args)
            .env("SLURM_CONF", &self.conf)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
    }

    fn wait_for(&self, what: &str, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        while !ready() {
            if start.elapsed() > Duration::from_secs(60) {
                panic!("timed out waiting for {what}\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until no job is queued or running.
    fn wait_idle(&self) {
        self.wait_for("the queue to empty", || {
            let out = self.command("squeue", &["-h"]);
            out.status.success() && out.stdout.is_empty()
        });
    }

    fn logs(&self) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.dir.join("log"))
            .into_iter()
            .flatten()
        {
            let path = entry.unwrap().path();
            let body = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<&str> = body.lines().rev().take(15).collect();
            text += &format!("--- {}\n", path.display());
            for line in tail.into_iter().rev() {
                text += line;
                text.push('\n');
            }
        }
        text
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.command("scancel", &["--user=root"]);
        // The reverse of starting: slurmd, slurmctld, then munged. SIGTERM, then SIGKILL.
        for (_, child) in self.daemons.iter_mut().rev() {
            let _ = Command::new("kill")
                .arg(child.id().to_string())
                .stderr(Stdio::null())
                .status();
            let start = Instant::now();
            while matches!(child.try_wait(), Ok(None)) && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Root and the Slurm programs, or an explicit opt-out.
fn can_run() -> bool {
    if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
        eprintln!("Slurm test skipped: {SKIP_ENV}=1");
        return false;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let installed = [
        "/usr/sbin/munged",
        "/usr/sbin/slurmctld",
        "/usr/sbin/slurmd",
    ]
    .iter()
    .all(|p| Path::new(p).exists());
    assert!(
        root && installed,
        "the Slurm test needs root and Debian's slurm-wlm and munge (scripts/setup.sh test \
         installs them); set {SKIP_ENV}=1 to opt out explicitly"
    );
    true
}

const RENDER_ARGS: &str = "--size 64x36 --fps 1 --codec ffv1";

#[test]
fn the_job_array_script_renders_on_a_real_slurm_and_resumes_a_failed_shard() {
    if !can_run() || common::gpu().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(&tmp.path().join("cluster"));
    let work = tmp.path().join("work");
    // The first attempt of shard 1 fails, as on a node that dies; later attempts run.
    let mark = tmp.path().join("shard-1-failed-once");
    let wrapper = tmp.path().join("flaky-mandelfly");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n\
             case \" $* \" in *' --shard 1/4 '*)\n\
               if [ ! -e '{mark}' ]; then touch '{mark}'; echo 'simulated node failure' >&2; exit 1; fi ;;\n\
             esac\n\
             exec '{real}' \"$@\"\n",
            mark = mark.display(),
            real = env!("CARGO_BIN_EXE_mandelfly"),
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/slurm-job-array.sh");
    let submit = |extra: &[&str]| {
        let out = Command::new(&script)
            .args(extra)
            .args([
                "--throttle",
                "2",
                &common::weave(),
                work.to_str().unwrap(),
                "4",
            ])
            .env("SLURM_CONF", &cluster.conf)
            .env("MANDELFLY", &wrapper)
            .env("RENDER_ARGS", RENDER_ARGS)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };

    let said = submit(&[]);
    assert!(said.contains("4 of 4 shards"), "{said}");
    cluster.wait_idle();
    // Shard 1 failed: no video, and the concat job was cancelled rather than left waiting.
    let video = work.join("flight.mkv");
    assert!(!video.exists());
    let segments = work.join("segments");
    assert!(!segments.join("shard-0001-of-0004.json").exists());
    let status = common::mandelfly(&["shards", "status", segments.to_str().unwrap(), "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        status["rerun"],
        serde_json::json!([1]),
        "{status}\n{}",
        cluster.logs()
    );

    let said = submit(&["--resume"]);
    assert!(said.contains("1 of 4 shards"), "{said}");
    cluster.wait_idle();
    assert!(video.exists(), "no joined video\n{}", cluster.logs());

    // Every attempt has its own log; each shard names its adapter once.
    let logs: Vec<String> = std::fs::read_dir(work.join("logs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let shard_logs = |i: u32| {
        logs.iter()
            .filter(|n| n.starts_with("shards-") && n.ends_with(&format!("_{i}.log")))
            .count()
    };
    assert_eq!(
        (shard_logs(0), shard_logs(1), shard_logs(2), shard_logs(3)),
        (1, 2, 1, 1),
        "{logs:?}"
    );
    assert_eq!(
        logs.iter().filter(|n| n.starts_with("concat-")).count(),
        1,
        "{logs:?}"
    );
    let log0 = logs.iter().find(|n| n.ends_with("_0.log")).unwrap();
    let text = std::fs::read_to_string(work.join("logs").join(log0)).unwrap();
    assert_eq!(text.matches("adapter: ").count(), 1, "{text}");

    // The joined video is the flight rendered in one go, frame for frame (lossless FFV1).
    let whole = tmp.path().join("whole.mkv");
    let mut args = vec!["render".to_string(), common::weave()];
    args.extend(RENDER_ARGS.split(' ').map(String::from));
    args.extend(["-o".into(), whole.to_string_lossy().into_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::mandelfly(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (joined, _) = common::decode(&video);
    let (single, _) = common::decode(&whole);
    assert_eq!(joined.len(), 16);
    assert_eq!(single.len(), 16);
    for (k, ((ta, fa), (tb, fb))) in joined.iter().zip(&single).enumerate() {
        assert!((ta - tb).abs() < 1e-6, "frame {k} at {ta} and {tb}");
        assert!(fa == fb, "frame {k} differs");
    }
    drop(cluster);
}
