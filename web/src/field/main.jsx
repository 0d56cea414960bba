// Entry of the grid workers' app (field.html): installable, works without signal once loaded.
import { render } from 'preact';
import '../styles.css';
import { Field } from './Field.jsx';

if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  navigator.serviceWorker.register('/sw.js').catch(() => {
    /* plain http on a non-local address: no offline shell, the outbox still works */
  });
}
render(<Field />, document.getElementById('app'));
