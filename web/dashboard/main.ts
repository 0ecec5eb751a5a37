/** Entry point of the dashboard bundle (scripts/build-dashboard.mjs). */
import { html, render } from 'htm/preact';
import { App } from './app.js';

const root = document.getElementById('app');
if (root !== null) render(html`<${App} />`, root);
