// Public surface of recording (tcpcopy --record): options, the rotation policy, the files, the recorder.
export { RotationPolicy, recordingFileName } from './rotation.js';
export type { RotationLimits } from './rotation.js';
export { parseRecordConfig, parseRecordPorts, buildRecordFilter, MAX_RECORD_SECONDS, MAX_RECORD_SIZE_MB } from './config.js';
export type { RecordConfig, RecordPorts, RecordRawOptions } from './config.js';
export { isRecordOnly, validateRecordOnlyOptions } from './options.js';
export type { RecordOnlyConfig } from './options.js';
export { RecordingFiles } from './files.js';
export type { RecordedFile, RecordingFilesOptions } from './files.js';
export { Recorder, RECORD_BLOCK_TIMEOUT_MS } from './recorder.js';
export type { RecordCounters, RecorderOptions } from './recorder.js';
export { runRecordOnly, recordBeside } from './run.js';
