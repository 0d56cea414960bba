// Entry of the residents' page (report.html): public, no login, made for phones.
import { render } from 'preact';
import '../styles.css';
import { Resident } from './Resident.jsx';

render(<Resident />, document.getElementById('app'));
