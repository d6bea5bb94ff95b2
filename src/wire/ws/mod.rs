//! WebSocket frames (RFC 6455 §5), sans-IO: the decoder, the header encoder, close payloads,
//! and the incremental UTF-8 check text messages need. The handshake and the session over an
//! upgraded connection are the application layer's (`app/ws/`).

pub mod frame;
mod utf8;
