//! `mandelfly shards status DIR`: which shards of a sharded render are done, missing, partial
//! or stale, the frames each covers, and which to run again.
//!
//! The render the directory is about is the one most of its manifests describe (the newest on
//! a tie): a manifest from other settings or another shard count is stale, since `concat` would
//! refuse it beside the others.

use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

use super::{Manifest, Shard, leftovers, read_manifest};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Manifest and segment complete and agreeing with the rest.
    Done,
    /// No file of this shard at all.
    Missing,
    /// Started but not finished: files without a manifest, or a segment that does not match
    /// its manifest.
    Partial,
    /// A manifest from other settings, another path or another shard count.
    Stale,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Done => "done",
            State::Missing => "missing",
            State::Partial => "partial",
            State::Stale => "stale",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ShardStatus {
    pub index: u32,
    /// Frames `first_frame..end_frame` (end exclusive); unknown while no manifest of the render
    /// gives the frame count.
    pub first_frame: Option<u64>,
    pub end_frame: Option<u64>,
    pub state: State,
    /// The adapter that rendered a done shard, where its manifest records it.
    pub adapter: Option<String>,
    /// Why the shard is not done (empty when it is).
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub dir: String,
    /// N: the shard count of the render.
    pub shards: u32,
    pub total_frames: Option<u64>,
    pub done: u32,
    /// Every shard done: `concat` can join them.
    pub complete: bool,
    /// The indexes to render again (with the same settings).
    pub rerun: Vec<u32>,
    #[serde(rename = "shard")]
    pub entries: Vec<ShardStatus>,
    /// Manifests of another render (other settings or shard count) that `concat` would refuse
    /// beside these; remove them or render the flight again with their settings.
    pub other_manifests: Vec<String>,
}

/// `shard-IIII-of-NNNN` at the start of a file name (after a dot for temporary files).
fn parse_stem(name: &str) -> Option<(u32, u32)> {
    let rest = name
        .strip_prefix('.')
        .unwrap_or(name)
        .strip_prefix("shard-")?;
    let (i, rest) = rest.split_once("-of-")?;
    let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((i.parse().ok()?, n.parse().ok()?))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Reads `dir` and reports on each shard of the render found there.
pub fn status(dir: &Path) -> Result<Status> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        names.push(file_name(&entry.map_err(|e| Error::io(dir, e))?.path()));
    }
    names.sort();
    let mut manifests: Vec<(String, Manifest, SystemTime)> = Vec::new();
    let mut unreadable: Vec<(String, (u32, u32))> = Vec::new();
    for name in names
        .iter()
        .filter(|n| n.starts_with("shard-") && n.ends_with(".json"))
    {
        let path = dir.join(name);
        match read_manifest(&path) {
            Ok(m) => {
                let time = std::fs::metadata(&path)
                    .and_then(|md| md.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                manifests.push((name.clone(), m, time));
            }
            Err(_) => {
                if let Some(key) = parse_stem(name) {
                    unreadable.push((name.clone(), key));
                }
            }
        }
    }

    // The render this directory is about: the largest group of agreeing manifests.
    let same = |a: &Manifest, b: &Manifest| {
        (&a.render_hash, &a.encoder, a.shards, a.total_frames)
            == (&b.render_hash, &b.encoder, b.shards, b.total_frames)
    };
    let reference = manifests
        .iter()
        .max_by_key(|(_, m, _)| {
            let members = manifests.iter().filter(|(_, o, _)| same(m, o));
            let newest = members.clone().map(|(_, _, t)| *t).max();
            (members.count(), newest)
        })
        .map(|(_, m, _)| m.clone());
    let (count, total) = match &reference {
        Some(m) => (m.shards, Some(m.total_frames)),
        None => {
            // No manifest yet: the shard count from the files' names, the most common one.
            let counts: Vec<u32> = names
                .iter()
                .filter_map(|n| parse_stem(n))
                .map(|k| k.1)
                .collect();
            let Some(n) = counts
                .iter()
                .copied()
                .max_by_key(|n| (counts.iter().filter(|c| *c == n).count(), *n))
            else {
                return Err(Error::InvalidArgument(format!(
                    "{}: no shard files (shard-*) here; `render --shard I/N -o {}` writes them",
                    dir.display(),
                    dir.display()
                )));
            };
            (n, None)
        }
    };

    let mut entries = Vec::new();
    for index in 0..count {
        let shard = Shard { index, count };
        let frames = total.map(|t| shard.frames(t));
        let mut entry = ShardStatus {
            index,
            first_frame: frames.as_ref().map(|r| r.start),
            end_frame: frames.as_ref().map(|r| r.end),
            state: State::Missing,
            adapter: None,
            detail: String::new(),
        };
        let own: Vec<&(String, Manifest, SystemTime)> = manifests
            .iter()
            .filter(|(_, m, _)| (m.shard, m.shards) == (index, count))
            .collect();
        let current = own
            .iter()
            .filter(|(_, m, _)| reference.as_ref().is_some_and(|r| same(m, r)));
        let mut problem = None;
        for (name, m, _) in current {
            match std::fs::metadata(dir.join(&m.segment)) {
                Ok(md) if md.len() == m.segment_bytes => {
                    entry.state = State::Done;
                    entry.adapter = m.adapter.clone();
                    break;
                }
                Ok(md) => {
                    problem = Some(format!(
                        "{} has {} bytes, {name} says {}",
                        m.segment,
                        md.len(),
                        m.segment_bytes
                    ))
                }
                Err(_) => problem = Some(format!("{} is missing (listed by {name})", m.segment)),
            }
        }
        if entry.state != State::Done {
            let left: Vec<String> = leftovers(dir, shard).iter().map(|p| file_name(p)).collect();
            let segment = format!("{}.mkv", shard.stem());
            let unread = unreadable.iter().find(|(_, key)| *key == (index, count));
            if let Some(problem) = problem {
                entry.state = State::Partial;
                entry.detail = problem;
            } else if let Some((name, _, _)) = own.first() {
                entry.state = State::Stale;
                entry.detail = format!("{name} is from another path or other settings");
            } else if let Some((name, _)) = unread {
                entry.state = State::Partial;
                entry.detail = format!("{name} is not a readable manifest");
            } else if !left.is_empty() || names.contains(&segment) {
                entry.state = State::Partial;
                let mut files = left;
                if names.contains(&segment) {
                    files.insert(0, segment);
                }
                entry.detail = format!(
                    "no manifest (being written, or left by a run that stopped): {}",
                    files.join(", ")
                );
            }
        }
        entries.push(entry);
    }
    let other_manifests = manifests
        .iter()
        .filter(|(_, m, _)| m.shards != count)
        .map(|(name, _, _)| name.clone())
        .collect();
    let rerun: Vec<u32> = entries
        .iter()
        .filter(|e| e.state != State::Done)
        .map(|e| e.index)
        .collect();
    Ok(Status {
        dir: dir.display().to_string(),
        shards: count,
        total_frames: total,
        done: count - rerun.len() as u32,
        complete: rerun.is_empty(),
        rerun,
        entries,
        other_manifests,
    })
}

impl Status {
    /// The report for a person: one line per shard, then what to do.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}: {} of {} shards done{}\n",
            self.dir,
            self.done,
            self.shards,
            match self.total_frames {
                Some(t) => format!(" ({t} frames in all)"),
                None => " (frame count unknown: no manifest yet)".into(),
            }
        );
        for e in &self.entries {
            let frames = match (e.first_frame, e.end_frame) {
                (Some(a), Some(b)) => format!("{a}..{b}"),
                _ => "?".into(),
            };
            let note = match (&e.state, &e.adapter) {
                (State::Done, Some(a)) => a.clone(),
                _ => e.detail.clone(),
            };
            let line = format!(
                "  shard {:>4}  frames {frames:<13} {:<8} {note}",
                e.index,
                e.state.name()
            );
            out += line.trim_end();
            out.push('\n');
        }
        if !self.other_manifests.is_empty() {
            out += &format!(
                "other renders' manifests (concat refuses them beside these): {}\n",
                self.other_manifests.join(", ")
            );
        }
        if self.complete {
            out += &format!("all done: mandelfly concat {} -o OUT.mp4\n", self.dir);
        } else {
            let list: Vec<String> = self.rerun.iter().map(u32::to_string).collect();
            out += &format!(
                "re-run: {} (render --shard I/{} -o {} with the same settings)\n",
                list.join(", "),
                self.shards,
                self.dir
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems() {
        assert_eq!(parse_stem("shard-0002-of-0008.json"), Some((2, 8)));
        assert_eq!(parse_stem(".shard-0002-of-0008.mkv.writing"), Some((2, 8)));
        assert_eq!(parse_stem("shard-0010-of-0012.partial.mkv"), Some((10, 12)));
        assert_eq!(parse_stem("flight.mp4"), None);
        assert_eq!(parse_stem("shard-x-of-0002.json"), None);
    }
}
