//! A WebSocket viewer of one series: subscribes from offset 0, checks every `points` message
//! continues exactly where the last one ended, and measures how long after a point was sent it
//! arrived.

use crate::faults::ledger::Row;
use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use trackline_shared::{ClientMsg, ServerMsg, Topic};

/// When each step of a run was handed to the daemon, filled by its writer.
#[derive(Debug, Default)]
pub struct SentTimes(pub Mutex<Vec<Instant>>);

impl SentTimes {
    pub fn record(&self, upto_step: u64) {
        let mut times = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        while (times.len() as u64) < upto_step {
            times.push(now);
        }
    }

    fn of(&self, step: u64) -> Option<Instant> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(step as usize)
            .copied()
    }
}

/// What a viewer saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub rows: Vec<Row>,
    /// Messages that did not start where the previous one ended (a gap or a repeat).
    pub discontinuities: u64,
    /// Sent → arrived, per `points` message (its last point).
    pub lags: Vec<Duration>,
    /// The daemon closed the socket (a viewer judged too slow, or a failure).
    pub closed: bool,
}

/// Watches `project/run/KEY` until it has `target` points (set once the writers are done) or
/// `stop` is raised.
pub async fn watch(
    port: u16,
    project: &str,
    run: &str,
    sent: &SentTimes,
    target: &AtomicU64,
    stop: &AtomicBool,
) -> anyhow::Result<Seen> {
    let url = format!("ws://127.0.0.1:{port}/api/ws");
    let (mut ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .with_context(|| format!("connect {url}"))?;
    let subscribe = serde_json::to_string(&ClientMsg::Subscribe {
        id: 1,
        topic: Topic::Series {
            project: project.into(),
            run: run.into(),
            key: crate::faults::ledger::KEY.into(),
            from: 0,
            x_key: None,
        },
    })?;
    ws.send(Message::Text(subscribe.clone().into())).await?;
    let mut seen = Seen::default();
    let mut next = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        if seen.rows.len() as u64 >= target.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed)
        {
            return Ok(seen);
        }
        let frame = tokio::select! {
            frame = ws.next() => frame,
            _ = tick.tick() => continue,
        };
        let text = match frame {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                seen.closed = true;
                return Ok(seen);
            }
            Some(Ok(_)) => continue,
        };
        let arrived = Instant::now();
        match serde_json::from_str::<ServerMsg>(text.as_str())? {
            ServerMsg::Points {
                start, step, value, ..
            } => {
                if start != next {
                    seen.discontinuities += 1;
                }
                next = start + step.len() as u64;
                if let Some(sent_at) = step.last().and_then(|&s| sent.of(s as u64)) {
                    seen.lags.push(arrived.saturating_duration_since(sent_at));
                }
                seen.rows
                    .extend(step.iter().zip(&value).map(|(&s, &v)| Row {
                        step: s as u64,
                        value: v,
                    }));
            }
            ServerMsg::Error { message, .. } => {
                // The run may not be known yet: ask again shortly.
                if next > 0 {
                    bail!("error on a live subscription: {message}");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                ws.send(Message::Text(subscribe.clone().into())).await?;
            }
            _ => {}
        }
    }
}
