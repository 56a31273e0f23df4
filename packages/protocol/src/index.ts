export * from './errors';
export * from './limits';
export * from './clock';
export * from './frame';
export * from './ops';
export * from './values';
export * from './spec';
export * from './random';
