/** The bottom layer: the one error base every layer subclasses, and the one formatter for all. */
export { GridError, ConfigError, type ErrorContext } from './grid-error.js';
export { formatError, statusName } from './format-error.js';
