//! Bounded fuzzing of what reads user input: the scene and path parsers and the custom-formula
//! checker. Each case takes a real file (the examples) and mutates it: bytes flipped, cut,
//! repeated, or hostile tokens inserted (huge and odd numbers, brackets, keys of the other
//! kind). Every case must return, an error or a value, without a panic and in bounded time.
//!
//! The number of cases is fixed (PROPTEST_CASES overrides it), so CI time is bounded; a failing
//! case is shrunk and reported by proptest.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use mandelfly::fractal::custom::Custom;
use mandelfly::path::{CameraPath, PathFile};
use mandelfly::scene::Scene;
use proptest::prelude::*;

/// Inserted at random places: what a hostile or careless writer puts into a file.
const TOKENS: &[&str] = &[
    "1e308",
    "-1e308",
    "1e-320",
    "nan",
    "inf",
    "-inf",
    "-0.0",
    "0",
    "-1",
    "18446744073709551616",
    "4294967297",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'''",
    "=",
    ",",
    ".",
    "\n",
    "#",
    "\u{0}",
    "é",
    "[[key]]\ntime = 1e300\n",
    "[[key]]\ntime = 0\n",
    "\n[fractal]\nkind = \"mandelbrot\"\n",
    "\n[fractal]\nkind = \"hybrid\"\n",
    "\nloop = true\n",
    "\nduration = 1e-300\n",
    "\ntiming = \"scale-aware\"\n",
    "position = [1, 2, 3, 4]\n",
    "zoom = \"1e-100000\"\n",
    "center = [\"1e400\", \"-0\"]\n",
    "iterations = 100000000\n",
    "var<private> a: array<f32, 1000000000>;\n",
    "var<workgroup> w: array<vec4<f32>, 65536>;\n",
    "loop { }\n",
    "fn fractal_de(p: vec3<f32>) -> vec2<f32> { return fractal_de(p); }\n",
    "@compute @workgroup_size(1) fn main() {}\n",
    "array<f32, 4294967295>",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bits: u8 },
    Insert { at: usize, token: usize },
    Delete { at: usize, len: usize },
    Repeat { at: usize, len: usize, times: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, bits)| Mutation::Flip { at, bits }),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 1usize..200, 2usize..50).prop_map(|(at, len, times)| Mutation::Repeat {
            at,
            len,
            times
        }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn mutate(base: &str, mutations: &[Mutation]) -> String {
    let mut bytes = base.as_bytes().to_vec();
    for m in mutations {
        let n = bytes.len().max(1);
        match *m {
            Mutation::Flip { at, bits } => {
                if let Some(b) = bytes.get_mut(at % n) {
                    *b ^= bits;
                }
            }
            Mutation::Insert { at, token } => {
                let at = (at % n).min(bytes.len());
                bytes.splice(at..at, TOKENS[token].bytes());
            }
            Mutation::Delete { at, len } => {
                let at = (at % n).min(bytes.len());
                let end = (at + len).min(bytes.len());
                bytes.drain(at..end);
            }
            Mutation::Repeat { at, len, times } => {
                let at = (at % n).min(bytes.len());
                let end = (at + len).min(bytes.len());
                let piece = bytes[at..end].to_vec();
                for _ in 0..times {
                    bytes.splice(end..end, piece.iter().copied());
                }
            }
            Mutation::Truncate { at } => bytes.truncate(at % n),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The files of a folder with this extension, as text (the seed corpus).
fn corpus(folders: &[&str], ext: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for folder in folders {
        for entry in std::fs::read_dir(root.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == ext) {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path.to_string_lossy().into_owned(), text));
            }
        }
    }
    files.sort();
    assert!(!files.is_empty());
    files
}

/// Runs `f` on its own thread: a panic fails the case, and so does not returning in time.
fn returns<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(v) => {
            let _ = handle.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: no answer within 60 s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let _ = handle.join();
            panic!("{what}: panicked")
        }
    }
}

fn config() -> ProptestConfig {
    let mut config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 256;
    }
    config
}

/// A located error must point into the file (a line it has, or just past its end).
fn located_within(e: &mandelfly::error::SourceError, text: &str) -> bool {
    e.line >= 1 && e.column >= 1 && e.line <= text.lines().count() + 1
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn scene_parser_never_panics(
        seed in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let files = corpus(&["examples/scenes"], "toml");
        let (name, base) = &files[seed.index(files.len())];
        let text = mutate(base, &mutations);
        let (name, src) = (name.clone(), text.clone());
        let result = returns("Scene::parse", move || {
            Scene::parse(&name, &src).map(|_| ())
        });
        if let Err(e) = result {
            prop_assert!(located_within(&e, &text), "{e} for {text:?}");
        }
    }

    #[test]
    fn path_parser_and_sampling_never_panic(
        seed in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..8),
        share in 0.0f64..1.0,
    ) {
        let files = corpus(&["paths"], "toml");
        let (name, base) = &files[seed.index(files.len())];
        let text = mutate(base, &mutations);
        let (name, src) = (name.clone(), text.clone());
        let result = returns("PathFile::parse and sampling", move || {
            let file = PathFile::parse(&name, &src)?;
            let path = CameraPath::new(file);
            let d = path.duration();
            for t in [0.0, d * share, d, -1.0, d + 1.0] {
                let _ = path.sample(t);
            }
            let _ = path.checked_frame_count(30.0);
            Ok::<(), mandelfly::error::SourceError>(())
        });
        if let Err(e) = result {
            prop_assert!(located_within(&e, &text), "{e} for {text:?}");
        }
    }

    #[test]
    fn formula_checker_never_panics(
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let files = corpus(&["paths/formulas"], "wgsl");
        let text = mutate(&files[0].1, &mutations);
        let src = text.clone();
        let result = returns("Custom::compile_check", move || {
            let mut custom = Custom::example();
            custom.source = src;
            custom.params = ["twist", "major", "minor", "ripple"]
                .map(|n| (n.to_string(), 0.5))
                .to_vec();
            custom.compile_check()
        });
        if let Err(e) = result {
            prop_assert!(located_within(&e, &text), "{e} for {text:?}");
        }
    }
}
