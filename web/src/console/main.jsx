// Entry of the command-centre console (index.html).
import { render } from 'preact';
import '../styles.css';
import { App } from './App.jsx';

render(<App />, document.getElementById('app'));
