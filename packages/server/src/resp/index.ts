export { RespParser, RespProtocolError, type RespLimits } from './parser';
export { runRespCommand, respErrorFor, type RespBackend, type RespReply } from './commands';
export { RespDoor, type RespDoorOptions } from './door';
