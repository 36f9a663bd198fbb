//! `GET /api/ws`: the WebSocket glue between an axum socket and a [`push::Session`].
//!
//! `?batch=1` asks for batches: whatever else waits in the connection's queue when a message is
//! written goes in the same frame, as one `batch` message (at most [`BATCH_MAX_MSGS`] messages
//! and about [`BATCH_MAX_BYTES`]). Nothing is held back to fill a batch.

use super::AppState;
use super::security::check_ws_origin;
use crate::auth::sharing::Principal;
use crate::error::Error;
use crate::push::session::{REVOKED_CLOSE_CODE, Revocation};
use crate::push::{Session, SlowConsumer};
use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc};
use trackline_shared::{MAX_MESSAGE_BYTES, ServerMsg};

/// Messages a batch takes at most.
const BATCH_MAX_MSGS: usize = 2_000;
/// A batch takes no further message once its text is this long.
const BATCH_MAX_BYTES: usize = 512 * 1024;

#[derive(Debug, Default, serde::Deserialize)]
pub struct WsParams {
    /// `1`: several waiting messages may come as one `batch` message.
    #[serde(default)]
    batch: u8,
}

pub async fn upgrade(
    State(state): State<AppState>,
    Query(params): Query<WsParams>,
    headers: HeaderMap,
    principal: Option<Extension<Principal>>,
    ws: WebSocketUpgrade,
) -> Result<Response, Error> {
    check_ws_origin(&state.security, &headers)?;
    let principal = principal.map(|Extension(p)| p);
    // Sharing mode: the socket closes once its link is revoked or expires.
    let revocation = match (&state.security.sharing, &principal) {
        (Some(sharing), Some(p)) => Some(Revocation::new(p.link_id.clone(), sharing.watch_dead())),
        _ => None,
    };
    Ok(ws
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| {
            connection(state, socket, revocation, principal, params.batch == 1)
        }))
}

async fn connection(
    state: AppState,
    socket: WebSocket,
    mut revocation: Option<Revocation>,
    principal: Option<Principal>,
    batch: bool,
) {
    let (mut sink, mut stream) = socket.split();
    let presence = state.presence.join(principal.as_ref());
    let hello = Session::hello(Some(presence.me().clone()));
    let outbox = presence.outbox();
    let (out_tx, mut out_rx) = mpsc::channel::<ServerMsg>(state.ws_queue.max(1));
    let (close_tx, mut close_rx) = mpsc::channel::<CloseFrame>(1);

    // The writer: drains the bounded queue into the socket, then closes with the given reason.
    let writer = tokio::spawn(async move {
        loop {
            tokio::select! {
                biased;
                frame = close_rx.recv() => {
                    let _ = sink.send(Message::Close(frame)).await;
                    break;
                }
                msg = out_rx.recv() => {
                    let Some(msg) = msg else { break };
                    let text = if batch {
                        batch_text(msg, &mut out_rx)
                    } else {
                        encode(&msg)
                    };
                    if let Some(text) = text
                        && sink.send(Message::Text(text.into())).await.is_err()
                    {
                        break;
                    }
                }
                // Presence only while no data waits: it is the first thing held back.
                msgs = outbox.next() => {
                    for msg in &msgs {
                        if !write(&mut sink, msg).await {
                            return;
                        }
                    }
                }
            }
        }
    });

    let mut events = state.store.subscribe();
    let mut session = Session::new(
        state.store.clone(),
        state.annotations.clone(),
        out_tx.clone(),
        state.ws_send_timeout,
    )
    .with_presence(presence)
    .with_data_dir(state.data_dir.clone())
    .with_sweeps(state.sweeps.clone())
    .with_drafts(crate::reports::sees_drafts(principal.as_ref()));
    let result: Result<bool, SlowConsumer> = async {
        out_tx.try_send(hello).map_err(|_| SlowConsumer)?;
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => return Ok(false),
                _ = Revocation::revoked(&mut revocation) => return Ok(true),
                Some(opened) = session.next_opened(), if session.is_opening() => {
                    session.finish_open(opened).await?;
                }
                frame = stream.next() => match frame {
                    Some(Ok(Message::Text(text))) => session.on_text(text.as_str()).await?,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(false),
                    Some(Ok(_)) => {}
                },
                event = events.recv() => match event {
                    Ok(event) => session.on_event(&event).await?,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::debug!(missed = n, "event receiver lagged; resyncing from offsets");
                        session.resync().await?;
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(false),
                },
            }
        }
    }
    .await;
    drop(session);
    if result.is_err() {
        tracing::info!("dropping a WebSocket client that stopped reading");
        let _ = close_tx.try_send(CloseFrame {
            code: close_code::POLICY,
            reason: "slow consumer".into(),
        });
        // The writer may be stuck on a full socket; don't wait for it.
        writer.abort();
    } else {
        if result == Ok(true) {
            tracing::info!("closing a WebSocket whose share link was revoked or expired");
            let _ = close_tx.try_send(CloseFrame {
                code: REVOKED_CLOSE_CODE,
                reason: "auth_revoked".into(),
            });
        }
        drop(out_tx);
        let _ = writer.await;
    }
}

/// Sends one message as a text frame; false once the socket is gone.
async fn write(sink: &mut SplitSink<WebSocket, Message>, msg: &ServerMsg) -> bool {
    match encode(msg) {
        Some(text) => sink.send(Message::Text(text.into())).await.is_ok(),
        None => true,
    }
}

/// `msg` as JSON (`None`, logged, if it cannot be encoded).
fn encode(msg: &ServerMsg) -> Option<String> {
    serde_json::to_string(msg)
        .inspect_err(|e| tracing::error!("cannot encode a message: {e}"))
        .ok()
}

/// The text of one frame: `first`, and with it as one `batch` message whatever else `queue`
/// holds right now (within [`BATCH_MAX_MSGS`] and [`BATCH_MAX_BYTES`]).
fn batch_text(first: ServerMsg, queue: &mut mpsc::Receiver<ServerMsg>) -> Option<String> {
    let mut texts: Vec<String> = encode(&first).into_iter().collect();
    let mut bytes = texts.iter().map(String::len).sum::<usize>();
    while texts.len() < BATCH_MAX_MSGS && bytes < BATCH_MAX_BYTES {
        let Ok(msg) = queue.try_recv() else { break };
        if let Some(text) = encode(&msg) {
            bytes += text.len() + 1;
            texts.push(text);
        }
    }
    match texts.len() {
        0 => None,
        1 => texts.pop(),
        _ => {
            let mut out = String::with_capacity(bytes + 32);
            out.push_str(r#"{"type":"batch","msgs":["#);
            for (i, t) in texts.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(t);
            }
            out.push_str("]}");
            Some(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(sub: u64, start: u64) -> ServerMsg {
        ServerMsg::Points {
            sub,
            run: "r".into(),
            key: "loss".into(),
            start,
            step: vec![start as f64],
            wall_time: vec![1.5],
            value: vec![0.25],
        }
    }

    #[test]
    fn what_waits_in_the_queue_goes_out_as_one_batch_in_order() {
        let (tx, mut rx) = mpsc::channel(8);
        for k in 1..4 {
            tx.try_send(points(k, k * 10)).unwrap();
        }
        let text = batch_text(points(0, 0), &mut rx).unwrap();
        let got: ServerMsg = serde_json::from_str(&text).unwrap();
        assert_eq!(
            got,
            ServerMsg::Batch {
                msgs: (0..4).map(|k| points(k, k * 10)).collect()
            }
        );
        assert!(rx.try_recv().is_err());
        // Alone, a message goes as itself.
        let text = batch_text(points(5, 1), &mut rx).unwrap();
        assert_eq!(
            serde_json::from_str::<ServerMsg>(&text).unwrap(),
            points(5, 1)
        );
    }

    #[test]
    fn a_batch_stops_at_its_size() {
        let (tx, mut rx) = mpsc::channel(BATCH_MAX_MSGS + 10);
        for k in 0..BATCH_MAX_MSGS + 5 {
            tx.try_send(points(k as u64, 0)).unwrap();
        }
        let first = rx.try_recv().unwrap();
        let text = batch_text(first, &mut rx).unwrap();
        let ServerMsg::Batch { msgs } = serde_json::from_str(&text).unwrap() else {
            panic!("not a batch")
        };
        assert_eq!(msgs.len(), BATCH_MAX_MSGS);
        let rest = batch_text(rx.try_recv().unwrap(), &mut rx).unwrap();
        let ServerMsg::Batch { msgs } = serde_json::from_str(&rest).unwrap() else {
            panic!("not a batch")
        };
        assert_eq!(msgs.len(), 5);
        assert_eq!(msgs[0], points(BATCH_MAX_MSGS as u64, 0));
    }
}
