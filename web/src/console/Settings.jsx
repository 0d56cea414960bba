// Settings of this browser: the language and the optional intranet tile server beneath the maps
// (nothing is fetched from the internet; without a URL the maps show civgrid's own layers only).
import { useState } from 'preact/hooks';
import { tileUrl, setTileUrl } from '../lib/map.js';
import { LangSwitch, useT } from '../lib/ui.jsx';

export function Settings() {
  const t = useT();
  const [url, setUrl] = useState(tileUrl());
  const [saved, setSaved] = useState(false);
  function submit(e) {
    e.preventDefault();
    setTileUrl(url.trim());
    setSaved(true);
  }
  return (
    <section class="page narrow">
      <h1>{t('nav.settings')}</h1>
      <form class="stack card" onSubmit={submit}>
        <span>{t('common.language')}</span>
        <LangSwitch />
        <label for="tiles">{t('settings.tiles')}</label>
        <input id="tiles" type="url" value={url} onInput={(e) => { setUrl(e.currentTarget.value); setSaved(false); }} placeholder="http://tiles.intranet/{z}/{x}/{y}.png" aria-describedby="tiles-hint" />
        <small id="tiles-hint" class="hint">{t('settings.tilesHint')}</small>
        <div class="buttons">
          <button type="submit" class="primary">{t('common.save')}</button>
        </div>
        {saved && <p class="state ok" role="status">{t('settings.saved')}</p>}
      </form>
    </section>
  );
}
