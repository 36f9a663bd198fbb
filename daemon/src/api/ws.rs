//! `GET /api/ws`: the WebSocket glue between an axum socket and a [`push::Session`].

use super::AppState;
use super::security::check_ws_origin;
use crate::auth::sharing::Principal;
use crate::error::Error;
use crate::push::session::{REVOKED_CLOSE_CODE, Revocation};
use crate::push::{Session, SlowConsumer};
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc};
use trackline_shared::{MAX_MESSAGE_BYTES, ServerMsg};

pub async fn upgrade(
    State(state): State<AppState>,
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
        .on_upgrade(move |socket| connection(state, socket, revocation, principal)))
}

async fn connection(
    state: AppState,
    socket: WebSocket,
    mut revocation: Option<Revocation>,
    principal: Option<Principal>,
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
                    if !write(&mut sink, &msg).await {
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
    match serde_json::to_string(msg) {
        Ok(text) => sink.send(Message::Text(text.into())).await.is_ok(),
        Err(e) => {
            tracing::error!("cannot encode a message: {e}");
            true
        }
    }
}
