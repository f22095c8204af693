// The MySQL/MariaDB wire protocol, pure: framing, the login handshake, server replies, auth
// responses and the commands a replayer needs to look into. No I/O; see src/mysql/README.md.
export * from './errors.js';
export * from './capabilities.js';
export * from './packet.js';
export * from './handshake.js';
export * from './replies.js';
export * from './auth.js';
export * from './commands.js';
export * from './sql.js';
export * from './write-keys.js';
