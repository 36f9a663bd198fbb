//! Group commit for remote ingest: batches written by many requests at once are made durable
//! together. A batch hands the files it wrote to [`GroupCommit::sync`] and waits; one committer
//! thread takes everything queued while its previous round ran, fsyncs those files concurrently
//! (one `fdatasync` per file and round, on [`SYNC_THREADS`] threads kept for it), and then answers
//! each waiting batch with the outcome of its own files. So a batch is acknowledged only once its data is on
//! disk, and the cost of a sync is shared by every batch that arrived while the last one ran. A
//! round of many files syncs their filesystem whole instead ([`WHOLE_FS_MIN_FILES`], Linux
//! `syncfs`), one call where per-file syncs queue up behind each other in the journal; a slow one
//! (other programs' writes to flush) sends rounds back to per-file syncs for a while.

use crate::format::FormatError;
use parking_lot::Mutex;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Files fsynced at the same time within one round.
pub const SYNC_THREADS: usize = 8;

/// A file written but not yet durable.
#[derive(Debug)]
pub struct Unsynced {
    pub path: PathBuf,
    /// Shared with whoever keeps the file open for later batches.
    pub file: Arc<File>,
    /// A directory (its entries must be durable: a new file's name), synced with `fsync`.
    pub is_dir: bool,
    /// The filesystem (device) the file is on, when the caller knows it already.
    pub dev: Option<u64>,
}

impl Unsynced {
    pub fn file(path: PathBuf, file: Arc<File>) -> Unsynced {
        Unsynced {
            path,
            file,
            is_dir: false,
            dev: None,
        }
    }

    /// Says which device the file is on, so that a round need not ask the file.
    pub fn on_device(self, dev: u64) -> Unsynced {
        Unsynced {
            dev: Some(dev),
            ..self
        }
    }

    /// A directory whose new entries must survive a crash, `file` a handle to it opened to sync
    /// ([`Dir::open_to_sync`](crate::format::beneath::Dir::open_to_sync): a folder only, never a
    /// pipe swapped in behind a link, which a plain open would block on).
    pub fn folder(path: PathBuf, file: File) -> Unsynced {
        Unsynced {
            path,
            file: Arc::new(file),
            is_dir: true,
            dev: None,
        }
    }

    fn sync(&self) -> Result<(), FormatError> {
        let synced = if self.is_dir {
            self.file.sync_all()
        } else {
            self.file.sync_data()
        };
        synced.map_err(|e| FormatError::io(&self.path, e))
    }
}

/// One batch's files, and where to tell it they are durable (or why not). A job dropped
/// unanswered (its committer gone) tells its batch so by closing the channel.
struct Job {
    files: Vec<Unsynced>,
    done: oneshot::Sender<Result<(), FormatError>>,
}

/// The committer thread's queue, started on first use.
#[derive(Debug, Default)]
pub struct GroupCommit {
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    rounds: Arc<AtomicU64>,
}

impl GroupCommit {
    /// Blocks until every file in `files` is durable; the first failure of one of them otherwise.
    /// Not from an async task (see [`GroupCommit::synced`]).
    pub fn sync(&self, files: Vec<Unsynced>) -> Result<(), FormatError> {
        if files.is_empty() {
            return Ok(());
        }
        let (done, answer) = oneshot::channel();
        self.send(Job { files, done })?;
        answer
            .blocking_recv()
            .unwrap_or_else(|_| Err(committer_gone()))
    }

    /// [`GroupCommit::sync`] for an async task: waits for the round without holding a thread.
    pub async fn synced(&self, files: Vec<Unsynced>) -> Result<(), FormatError> {
        if files.is_empty() {
            return Ok(());
        }
        let (done, answer) = oneshot::channel();
        self.send(Job { files, done })?;
        answer.await.unwrap_or_else(|_| Err(committer_gone()))
    }

    /// Commit rounds run so far (each one made every batch queued before it durable).
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }

    fn send(&self, job: Job) -> Result<(), FormatError> {
        let mut queue = self.queue.lock();
        if queue.is_none() {
            let (tx, rx) = mpsc::channel();
            let rounds = self.rounds.clone();
            std::thread::Builder::new()
                .name("trackline-commit".into())
                .spawn(move || committer(&rx, &rounds))
                .map_err(|e| FormatError::io("(group commit thread)", e))?;
            *queue = Some(tx);
        }
        let sent = queue.as_ref().map(|tx| tx.send(job));
        if !matches!(sent, Some(Ok(()))) {
            // The thread is gone (it cannot be, short of a panic): start a new one next time.
            *queue = None;
            return Err(committer_gone());
        }
        Ok(())
    }
}

fn committer_gone() -> FormatError {
    FormatError::io(
        "(group commit thread)",
        std::io::Error::other("the group commit thread stopped"),
    )
}

/// Runs rounds until every sender is gone: takes all queued jobs, syncs their files, answers them.
fn committer(queue: &mpsc::Receiver<Job>, rounds: &AtomicU64) {
    let mut whole_fs = WholeFsSync::default();
    let mut pool = SyncPool::default();
    while let Ok(first) = queue.recv() {
        let mut jobs = vec![first];
        jobs.extend(queue.try_iter());
        tracing::trace!(batches = jobs.len(), "group commit round");
        round(jobs, rounds, &mut whole_fs, &mut pool);
    }
}

/// A round with at least this many files syncs their filesystems whole (`syncfs`, Linux) instead
/// of each file: on ext4, 32 concurrent `fdatasync`s took ~5 ms where one `syncfs` took ~0.6 ms.
pub const WHOLE_FS_MIN_FILES: usize = 4;
/// A `syncfs` slower than this had other processes' writes to flush (a checkpoint being saved on
/// the same disk, say): rounds go back to per-file syncs for [`WHOLE_FS_PAUSE`].
const WHOLE_FS_SLOW: Duration = Duration::from_millis(50);
const WHOLE_FS_PAUSE: Duration = Duration::from_secs(30);

/// When the committer may sync whole filesystems.
#[derive(Debug, Default)]
struct WholeFsSync {
    paused_until: Option<Instant>,
}

impl WholeFsSync {
    /// Makes every file of `files` durable by one `syncfs` per filesystem they are on; `false`
    /// when that was not done (too few files, paused, not Linux, or a failure, which the per-file
    /// syncs then report precisely).
    fn try_sync(&mut self, files: &[&Unsynced]) -> bool {
        if files.len() < WHOLE_FS_MIN_FILES || self.paused_until.is_some_and(|t| Instant::now() < t)
        {
            return false;
        }
        let started = Instant::now();
        let synced = sync_filesystems(files);
        let took = started.elapsed();
        if took > WHOLE_FS_SLOW {
            tracing::debug!(
                took_ms = took.as_millis() as u64,
                "syncfs was slow (other writes on the disk); syncing files one by one for a while"
            );
            self.paused_until = Some(Instant::now() + WHOLE_FS_PAUSE);
        }
        synced
    }
}

/// One `syncfs` per distinct filesystem (device) among `files` (a project folder may be a mount
/// point of its own); whether all succeeded.
#[cfg(target_os = "linux")]
fn sync_filesystems(files: &[&Unsynced]) -> bool {
    use std::os::unix::fs::MetadataExt;
    let mut devices: Vec<u64> = Vec::new();
    for file in files {
        let dev = match file.dev {
            Some(dev) => dev,
            None => match file.file.metadata() {
                Ok(meta) => meta.dev(),
                Err(_) => return false,
            },
        };
        if devices.contains(&dev) {
            continue;
        }
        devices.push(dev);
        if rustix::fs::syncfs(&*file.file).is_err() {
            return false;
        }
    }
    true
}

#[cfg(not(target_os = "linux"))]
fn sync_filesystems(_files: &[&Unsynced]) -> bool {
    false
}

/// One round: syncs the files of all `jobs` together, counts the round in `rounds`, then answers
/// each job about its own files (so a batch that has its answer sees its round counted).
fn round(jobs: Vec<Job>, rounds: &AtomicU64, whole_fs: &mut WholeFsSync, pool: &mut SyncPool) {
    let files: Vec<&Unsynced> = jobs.iter().flat_map(|j| &j.files).collect();
    let mut outcomes = if whole_fs.try_sync(&files) {
        files.iter().map(|_| Ok(())).collect::<Vec<_>>().into_iter()
    } else {
        pool.sync_all(&files).into_iter()
    };
    drop(files);
    rounds.fetch_add(1, Ordering::Relaxed);
    for job in jobs {
        let mut result = Ok(());
        for outcome in outcomes.by_ref().take(job.files.len()) {
            if result.is_ok() {
                result = outcome;
            }
        }
        // A batch whose request was dropped no longer listens; nothing to tell it.
        let _ = job.done.send(result);
    }
}

/// The threads that sync a round's files one by one, [`SYNC_THREADS`] at a time: started on the
/// first round that needs them and kept (a round must not pay for starting threads), ended when
/// the committer is.
#[derive(Default)]
struct SyncPool {
    jobs: Option<mpsc::Sender<SyncJob>>,
}

/// One file of a round for a pool thread to sync, and where to say how it went.
struct SyncJob {
    index: usize,
    file: Unsynced,
    done: mpsc::Sender<(usize, Result<(), FormatError>)>,
}

impl SyncPool {
    /// Syncs every file, up to [`SYNC_THREADS`] at once; the outcomes in the order of `files`.
    fn sync_all(&mut self, files: &[&Unsynced]) -> Vec<Result<(), FormatError>> {
        if files.len() <= 1 {
            return files.iter().map(|f| f.sync()).collect();
        }
        let (done, outcomes) = mpsc::channel();
        let mut outstanding = 0;
        let mut results: Vec<Option<Result<(), FormatError>>> =
            files.iter().map(|_| None).collect();
        for (index, file) in files.iter().enumerate() {
            let job = SyncJob {
                index,
                file: Unsynced {
                    path: file.path.clone(),
                    file: file.file.clone(),
                    is_dir: file.is_dir,
                    dev: file.dev,
                },
                done: done.clone(),
            };
            match self.sender().map(|jobs| jobs.send(job)) {
                Some(Ok(())) => outstanding += 1,
                // No pool thread (none could be started): this one is synced here.
                _ => results[index] = Some(file.sync()),
            }
        }
        drop(done);
        for _ in 0..outstanding {
            match outcomes.recv() {
                Ok((index, outcome)) => results[index] = Some(outcome),
                Err(_) => break,
            }
        }
        results
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(committer_gone())))
            .collect()
    }

    /// Where to send jobs, starting the threads on first use; `None` when none could be started.
    fn sender(&mut self) -> Option<&mpsc::Sender<SyncJob>> {
        if self.jobs.is_none() {
            let (tx, rx) = mpsc::channel::<SyncJob>();
            let rx = Arc::new(Mutex::new(rx));
            let mut started = 0;
            for _ in 0..SYNC_THREADS {
                let rx = rx.clone();
                let spawned = std::thread::Builder::new()
                    .name("trackline-sync".into())
                    .spawn(move || {
                        loop {
                            // Held only while waiting for a job, not while syncing it.
                            let job = rx.lock().recv();
                            let Ok(job) = job else { break };
                            let _ = job.done.send((job.index, job.file.sync()));
                        }
                    });
                started += usize::from(spawned.is_ok());
            }
            if started == 0 {
                return None;
            }
            self.jobs = Some(tx);
        }
        self.jobs.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::beneath::Dir;
    use std::io::Write;
    use std::sync::Barrier;

    #[test]
    fn batches_that_arrive_together_share_commit_rounds() {
        let dir = tempfile::tempdir().unwrap();
        let commit = Arc::new(GroupCommit::default());
        let batches = 32;
        let barrier = Arc::new(Barrier::new(batches));
        let threads: Vec<_> = (0..batches)
            .map(|i| {
                let (commit, barrier) = (commit.clone(), barrier.clone());
                let path = dir.path().join(format!("f{i}"));
                std::thread::spawn(move || {
                    let mut file = File::create(&path).unwrap();
                    file.write_all(b"line\n").unwrap();
                    barrier.wait();
                    commit.sync(vec![Unsynced::file(path, Arc::new(file))])
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        let rounds = commit.rounds();
        assert!(
            (1..batches as u64).contains(&rounds),
            "{rounds} rounds for {batches} batches"
        );
        // Directories sync too, and an empty batch needs no round.
        let before = commit.rounds();
        commit.sync(vec![]).unwrap();
        assert_eq!(commit.rounds(), before);
        let folder = Dir::open_root(dir.path()).unwrap().open_to_sync().unwrap();
        commit
            .sync(vec![Unsynced::folder(dir.path().to_owned(), folder)])
            .unwrap();
        assert_eq!(commit.rounds(), before + 1);
    }

    #[test]
    fn many_files_sync_their_filesystem_whole_and_few_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<Unsynced> = (0..WHOLE_FS_MIN_FILES)
            .map(|i| {
                let path = dir.path().join(format!("f{i}"));
                let mut file = File::create(&path).unwrap();
                file.write_all(b"line\n").unwrap();
                Unsynced::file(path, Arc::new(file))
            })
            .collect();
        let all: Vec<&Unsynced> = files.iter().collect();
        let mut whole_fs = WholeFsSync::default();
        assert!(!whole_fs.try_sync(&all[..WHOLE_FS_MIN_FILES - 1]));
        assert_eq!(whole_fs.try_sync(&all), cfg!(target_os = "linux"));
        // Paused (after a slow one): per-file syncs until the pause ends.
        whole_fs.paused_until = Some(Instant::now() + Duration::from_secs(60));
        assert!(!whole_fs.try_sync(&all));
        whole_fs.paused_until = Some(Instant::now() - Duration::from_secs(1));
        assert_eq!(whole_fs.try_sync(&all), cfg!(target_os = "linux"));
    }

    #[tokio::test]
    async fn an_async_batch_waits_for_its_round() {
        let dir = tempfile::tempdir().unwrap();
        let commit = GroupCommit::default();
        let path = dir.path().join("f");
        let mut file = File::create(&path).unwrap();
        file.write_all(b"line\n").unwrap();
        commit
            .synced(vec![Unsynced::file(path, Arc::new(file))])
            .await
            .unwrap();
        assert_eq!(commit.rounds(), 1);
        commit.synced(vec![]).await.unwrap();
        assert_eq!(commit.rounds(), 1);
    }

    #[test]
    fn each_batch_hears_about_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let good = || Unsynced::file(path.clone(), Arc::new(File::create(&path).unwrap()));
        // fsync of a socket fails (EINVAL): a stand-in for a disk that fails one file's sync.
        let (socket, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
        let bad = Unsynced::file(
            dir.path().join("bad"),
            Arc::new(File::from(std::os::fd::OwnedFd::from(socket))),
        );
        let (tx_a, rx_a) = oneshot::channel();
        let (tx_b, rx_b) = oneshot::channel();
        let (tx_c, rx_c) = oneshot::channel();
        let rounds = AtomicU64::new(0);
        round(
            vec![
                Job {
                    files: vec![good(), good()],
                    done: tx_a,
                },
                Job {
                    files: vec![good(), bad, good()],
                    done: tx_b,
                },
                Job {
                    files: vec![good()],
                    done: tx_c,
                },
            ],
            &rounds,
            // Per-file syncs: a socket's filesystem takes a `syncfs` happily, so the stand-in
            // failure shows only there (a real disk's failure fails `syncfs` too, and the round
            // then syncs file by file to say which).
            &mut WholeFsSync {
                paused_until: Some(Instant::now() + Duration::from_secs(60)),
            },
            &mut SyncPool::default(),
        );
        assert_eq!(rounds.load(Ordering::Relaxed), 1);
        assert!(rx_a.blocking_recv().unwrap().is_ok());
        let err = rx_b.blocking_recv().unwrap().unwrap_err();
        assert!(err.to_string().contains("bad"), "{err}");
        assert!(rx_c.blocking_recv().unwrap().is_ok());
    }
}
