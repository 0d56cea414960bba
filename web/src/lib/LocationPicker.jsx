// Choosing where something is: a pin on the map (click or tap; arrow keys pan the map when it has
// focus) or the device's GPS. Coordinates are WGS84; the map is civgrid's base map (roads,
// buildings, street and community names: public), with the grids on top when the visitor may
// read them. Without grids or a chosen point it opens on the middle of the district.
import { useEffect, useRef, useState } from 'preact/hooks';
import { createMap, geoLayer, pointMarker } from './map.js';
import { basemapInfo } from './basemap.js';
import { useT } from './ui.jsx';

export function LocationPicker({ value, onChange, gridsFc, center }) {
  const t = useT();
  const el = useRef(null);
  const map = useRef(null);
  const marker = useRef(null);
  const [gps, setGps] = useState('');
  useEffect(() => {
    const m = createMap(el.current, { center: center || [30.27, 120.16], zoom: 14 });
    m.on('click', (e) => onChange({ lat: e.latlng.lat, lon: e.latlng.lng, how: 'pin' }));
    map.current = m;
    if (!center)
      basemapInfo().then((info) => {
        const b = info && info.bounds;
        // not when the grids or a point have placed the map already
        if (!b || map.current !== m || m._placed) return;
        m.setView([(b[1] + b[3]) / 2, (b[0] + b[2]) / 2], 16, { animate: false });
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
      map.current.fitBounds(l.getBounds(), { animate: false });
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
      if (value.how === 'gps') m.setView([value.lat, value.lon], Math.max(m.getZoom(), 16), { animate: false });
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
