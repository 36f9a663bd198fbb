//! `GET /api/ws`: the WebSocket glue between an axum socket and a [`push::Session`].

use super::AppState;
use super::security::check_ws_origin;
use crate::error::Error;
use crate::push::{Session, SlowConsumer};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc};
use trackline_shared::{MAX_MESSAGE_BYTES, ServerMsg};

pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, Error> {
    check_ws_origin(&state.security, &headers)?;
    Ok(ws
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| connection(state, socket)))
}

async fn connection(state: AppState, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
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
                    let text = match serde_json::to_string(&msg) {
                        Ok(t) => t,
                        Err(e) => {
                            tracing::error!("cannot encode a message: {e}");
                            continue;
                        }
                    };
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
            }
        }
    });

    let mut events = state.store.subscribe();
    let mut session = Session::new(state.store.clone(), out_tx.clone(), state.ws_send_timeout);
    let result: Result<(), SlowConsumer> = async {
        out_tx.try_send(Session::hello()).map_err(|_| SlowConsumer)?;
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => return Ok(()),
                frame = stream.next() => match frame {
                    Some(Ok(Message::Text(text))) => session.on_text(text.as_str()).await?,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(()),
                    Some(Ok(_)) => {}
                },
                event = events.recv() => match event {
                    Ok(event) => session.on_event(&event).await?,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::debug!(missed = n, "event receiver lagged; resyncing from offsets");
                        session.resync().await?;
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
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
        drop(out_tx);
        let _ = writer.await;
    }
}
