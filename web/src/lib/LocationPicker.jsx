// Choosing where something is: a pin on the map (click or tap; arrow keys pan the map when it has
// focus) or the device's GPS. Coordinates are WGS84; the map is civgrid's base map (roads,
// buildings, street and community names: public), with the grids on top when the visitor may
// read them. The map asks for no tile before it knows where to open: on the grids when they are
// given (the field app has its worker's grids from the device at once, also without signal), else
// on the middle of the district (or, when even that is unknown, a fixed point), so it never draws
// one place and then jumps to another while its first tiles are loading.
import { useEffect, useRef, useState } from 'preact/hooks';
import { createMap, geoLayer, pointMarker } from './map.js';
import { basemapInfo } from './basemap.js';
import { SAVE_ZOOMS } from './offline-tiles.js';
import { useT } from './ui.jsx';

const FALLBACK_CENTER = [30.27, 120.16];
// Fitting a small grid goes no closer than the highest zoom the field app saves for use without
// signal (offline-tiles.js), so the map opens on tiles the phone keeps.
export const FIT_MAX_ZOOM = Math.max(...SAVE_ZOOMS);

export function LocationPicker({ value, onChange, gridsFc, center }) {
  const t = useT();
  const el = useRef(null);
  const map = useRef(null);
  const marker = useRef(null);
  const [gps, setGps] = useState('');
  useEffect(() => {
    const m = createMap(el.current, { center: center || null, zoom: 14 });
    m.on('click', (e) => onChange({ lat: e.latlng.lat, lon: e.latlng.lng, how: 'pin' }));
    map.current = m;
    // The grids' effect below runs right after this one and places the map when it has grids;
    // otherwise the district's extent does (asked once; answered from the kept copy offline).
    if (!center)
      basemapInfo().then((info) => {
        if (map.current !== m || m._placed) return;
        const b = info && info.bounds;
        if (b) m.setView([(b[1] + b[3]) / 2, (b[0] + b[2]) / 2], 16, { animate: false });
        else if (!m._loaded) m.setView(FALLBACK_CENTER, 14, { animate: false });
      });
    return () => {
      m.remove();
      map.current = null;
    };
  }, []);
  useEffect(() => {
    if (!gridsFc || !map.current) return;
    const l = geoLayer(gridsFc, { style: { color: '#1f5f8b', weight: 1, fillOpacity: 0.06, className: 'grid-shape' }, interactive: false }).addTo(map.current);
    if (!value && l.getBounds().isValid()) {
      map.current.fitBounds(l.getBounds(), { animate: false, maxZoom: FIT_MAX_ZOOM });
      map.current._placed = true;
    }
    return () => map.current && map.current.removeLayer(l);
  }, [gridsFc]);
  useEffect(() => {
    const m = map.current;
    if (!m) return;
    if (marker.current) m.removeLayer(marker.current);
    marker.current = null;
    if (value) {
      marker.current = pointMarker(value.lat, value.lon).addTo(m);
      m._placed = true;
      if (value.how === 'gps' || !m._loaded) m.setView([value.lat, value.lon], Math.max(m._loaded ? m.getZoom() : 0, 16), { animate: false });
    }
  }, [value && value.lat, value && value.lon]);

  function locate() {
    if (!navigator.geolocation) {
      setGps(t('where.noGps'));
      return;
    }
    setGps(t('where.locating'));
    navigator.geolocation.getCurrentPosition(
      (p) => {
        setGps('');
        onChange({ lat: p.coords.latitude, lon: p.coords.longitude, how: 'gps', accuracy: p.coords.accuracy });
      },
      (e) => setGps(t('where.gpsFailed', { detail: e.message })),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  }
  return (
    <fieldset class="where">
      <legend>{t('where.title')}</legend>
      <div class="pickmap" ref={el} role="application" aria-label={t('where.mapLabel')} />
      <div class="where-row">
        <button type="button" onClick={locate} data-testid="gps">
          {t('where.useGps')}
        </button>
        <span role="status" aria-live="polite" data-testid="where">
          {value ? t('where.chosen', { lat: value.lat.toFixed(6), lon: value.lon.toFixed(6) }) : gps || t('where.none')}
        </span>
      </div>
      {gps && value && <p class="hint">{gps}</p>}
    </fieldset>
  );
}
